"""Authentication-Results header fields read as RFC 8601 writes them (pure).

A receiving server writes into its own header what the sender chose: the SMTP envelope sender
(``smtp.mailfrom``, whose local part may hold ``=`` and, quoted, spaces and semicolons), the
HELO name, a DKIM selector. Searching the header for ``dkim=pass`` finds a pass there too:
``spf=softfail smtp.mailfrom=dmarc=pass.header.from=x@www.mooi.be`` is a soft SPF failure and
no DMARC verdict at all. So a result is only what the grammar makes one: the ``method=result``
that opens a result (after the authserv-id and each ``;``), with the properties that follow it;
comments (nested) and quoted strings are read as such. A header that cannot be read this way
says nothing: :class:`Unreadable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AuthResults", "Result", "Unreadable", "parse"]

_SPACE = " \t\r\n"
_SPECIAL = ";=/"


class Unreadable(ValueError):
    """The header does not follow RFC 8601; ``authserv_id`` is set when it was read."""

    def __init__(self, reason: str, authserv_id: str | None = None) -> None:
        super().__init__(reason)
        self.authserv_id = authserv_id


@dataclass(frozen=True)
class Result:
    """One ``method=result`` with its properties (names lower case, e.g. ``header.d``; every
    value a property was given, in order)."""

    method: str
    result: str
    props: dict[str, list[str]] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        """The property's value when it was given exactly once, else None."""
        values = self.props.get(name, [])
        return values[0] if len(values) == 1 else None


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: tuple[Result, ...]


# Tokens: (" ", " ") for folding white space and comments, (";"|"="|"/", same), ("q", text) for
# a quoted string, ("a", text) for any other run of characters.
Token = tuple[str, str]


def _lex(value: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in _SPACE:
            while i < n and value[i] in _SPACE:
                i += 1
            out.append((" ", " "))
        elif c == "(":
            depth = 0
            while i < n:
                ch = value[i]
                if ch == "\\":
                    i += 2
                    continue
                depth += ch == "("
                depth -= ch == ")"
                i += 1
                if depth == 0:
                    break
            if depth:
                raise Unreadable("a comment is not closed")
            out.append((" ", " "))
        elif c == ")":
            raise Unreadable("a ')' closes no comment")
        elif c == '"':
            i += 1
            text = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                text.append(value[i])
                i += 1
            if i >= n:
                raise Unreadable("a quoted string is not closed")
            i += 1
            out.append(("q", "".join(text)))
        elif c in _SPECIAL:
            out.append((c, c))
            i += 1
        else:
            start = i
            while i < n and value[i] not in _SPACE and value[i] not in _SPECIAL + '()"':
                i += 1
            out.append(("a", value[start:i]))
    return out


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.t[self.i][0] if self.i < len(self.t) else None

    def space(self) -> None:
        while self.peek() == " ":
            self.i += 1

    def take(self, kind: str, what: str) -> str:
        self.space()
        if self.peek() != kind:
            raise Unreadable(f"{what} expected")
        self.i += 1
        return self.t[self.i - 1][1]

    def word(self, what: str) -> str:
        self.space()
        if self.peek() not in ("a", "q"):
            raise Unreadable(f"{what} expected")
        self.i += 1
        return self.t[self.i - 1][1]

    def value(self) -> str:
        """A property's value: everything up to the next space or ';' (a local part may hold
        '=' and '/', a quoted local part anything)."""
        self.space()
        parts = []
        while self.peek() in ("a", "q", "=", "/"):
            parts.append(self.t[self.i][1])
            self.i += 1
        if not parts:
            raise Unreadable("a property has no value")
        return "".join(parts)


def parse(value: str) -> AuthResults:
    """The authserv-id and the results of one Authentication-Results value."""
    p = _Parser(_lex(value))
    try:
        serv = p.word("the authserv-id")
    except Unreadable:
        raise Unreadable("no authserv-id") from None
    p.space()
    if p.peek() == "a" and p.t[p.i][1].isdigit():  # the header's version
        p.i += 1
    results: list[Result] = []
    try:
        while True:
            p.space()
            if p.peek() is None:
                break
            p.take(";", "';' between results")
            p.space()
            if p.peek() is None:
                break  # a trailing ';'
            method = p.take("a", "a method").lower()
            p.space()
            if method == "none" and p.peek() in (None, ";"):
                continue  # "no result"
            if p.peek() == "/":
                p.i += 1
                p.take("a", "the method's version")
            p.take("=", f"'=' after {method}")
            result = p.take("a", f"the result of {method}").lower()
            props: dict[str, list[str]] = {}
            while True:
                p.space()
                if p.peek() in (None, ";"):
                    break
                name = p.take("a", "a property").lower()
                p.take("=", f"'=' after {name}")
                props.setdefault(name, []).append(p.value())
            results.append(Result(method, result, props))
    except Unreadable as exc:
        raise Unreadable(str(exc), serv) from None
    return AuthResults(serv, tuple(results))


def authserv_id_of(value: str) -> str | None:
    """The authserv-id of a header, even one whose results cannot be read (None: not even
    that can be read)."""
    try:
        return parse(value).authserv_id
    except Unreadable as exc:
        if exc.authserv_id is not None:
            return exc.authserv_id
    # Not even lexed (a comment or a quoted string left open somewhere): the first word.
    words = value.split(";", 1)[0].split()
    return words[0] if words and not words[0].startswith(("(", '"')) else None
