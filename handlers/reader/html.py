"""HTML mail bodies to text, with the quoted original dropped or marked at the HTML level (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr ul".split()
)
_SKIP = frozenset("script style head title template xml".split())
# Deeper elements are dropped, their text kept at this depth: no mail client nests this
# deep, and the tree is walked recursively (HTML nested 10,000 deep must not overflow it).
MAX_DEPTH = 100
# Elements a new <p>/<li>/<tr> closes implicitly (browsers do the same).
_AUTO_CLOSE = {"p": {"p"}, "li": {"li", "p"}, "tr": {"tr", "td", "th"}, "td": {"td", "th"}}
_AUTO_CLOSE["th"] = _AUTO_CLOSE["td"]


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """A forgiving tree: unknown end tags are ignored, unclosed elements close at their parent."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        closes = _AUTO_CLOSE.get(tag, set())
        while len(self.stack) > 1 and self.stack[-1].tag in closes:
            self.stack.pop()
        if len(self.stack) >= MAX_DEPTH:
            return  # deeper elements are dropped; their text goes to the element at the limit
        node = _Node(tag, {k.lower(): (v or "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k.lower(): (v or "") for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _classes(node: _Node) -> set[str]:
    return set(node.attrs.get("class", "").lower().split())


def _starts_original(node: _Node) -> bool:
    """Markers after which everything is the quoted original (Outlook desktop, web, mobile…)."""
    ident = node.attrs.get("id", "").lower().removeprefix("x_")
    if ident in {
        "divrplyfwdmsg",
        "appendonsend",
        "mail-editor-reference-message-container",
        "olk_src_body_section",
        "stopspelling",
    }:
        return True
    if "gmail_quote_attribution" in _classes(node) or node.attrs.get("name") == (
        "messagereplysection"
    ):
        return True
    # Outlook desktop (Word HTML) opens the original with a grey top border above "Van:".
    style = re.sub(r"\s+", "", node.attrs.get("style", "").lower())
    return node.tag == "div" and "border-top:solid#e1e1e1" in style and "border:none" in style


def _is_quote(node: _Node, mark: bool) -> bool:
    """A quoted block: blockquotes; when dropping also Gmail's, Thunderbird's, Yahoo's wrappers.

    Marking keeps Gmail's quote container: inline answers sit in it between its blockquotes.
    """
    if node.tag == "blockquote":
        return True
    if mark:
        return False
    cls = _classes(node)
    return bool(cls & {"gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted"})


def _is_signature(node: _Node) -> bool:
    cls = _classes(node)
    ident = node.attrs.get("id", "").lower()
    return bool(cls & {"gmail_signature", "moz-signature"} or ident in {"signature", "x_signature"})


# A block boundary: runs of them (and a <br> just before one) become one line break.
_EDGE = "\x01"


class _Renderer:
    """Depth-first text rendering; mark=True prefixes quoted lines with '> ' instead of dropping."""

    def __init__(self, mark: bool) -> None:
        self.mark = mark
        self.after_original = False

    def render(self, node: _Node, pre: bool = False) -> str:
        parts: list[str] = []
        counter = int(node.attrs.get("start", "1") or 1) if node.tag == "ol" else 0
        for child in node.children:
            if isinstance(child, str):
                parts.append(child if pre else re.sub(r"[ \t\r\n\f]+", " ", child))
                continue
            if child.tag in _SKIP or _is_signature(child):
                continue
            if not self.after_original and _starts_original(child):
                self.after_original = True
            if self.after_original and not self.mark:
                break
            if child.tag == "br":
                parts.append("\n")
                continue
            quote = _is_quote(child, self.mark)
            if quote and not self.mark:
                continue
            if child.tag == "tr":
                text = self._row(child, pre)
            else:
                text = self.render(child, pre or child.tag == "pre")
            if child.tag == "li":
                # The number of an <ol> item is drawn by the client, not in the text.
                bullet = f"{counter}. " if node.tag == "ol" else "- "
                counter += 1
                text = bullet + text.lstrip()
            elif child.tag in ("td", "th"):
                text = " " + text + " "
            if quote:
                text = "\n".join("> " + ln for ln in _tidy(text).split("\n"))
            if child.tag in _BLOCK or quote:
                # Paragraphs have margins (a blank line), except Outlook's MsoNormal ones.
                gap = (
                    "\n"
                    if child.tag == "p" and "mso" not in child.attrs.get("class", "").lower()
                    else ""
                )
                text = _EDGE + text + _EDGE + gap
            parts.append(text)
        return "".join(parts)

    def _row(self, row: _Node, pre: bool) -> str:
        """A table row as one answer line: "3. answer" under a number (nr | question | answer),
        "label: answer" under a label (question | answer), else its cells side by side."""
        cells = [
            " ".join(_tidy(self.render(c, pre)).split())
            for c in row.children
            if isinstance(c, _Node) and c.tag in ("td", "th")
        ]
        cells = [c for c in cells if c]
        if len(cells) < 2:
            return " ".join(cells)
        number = re.fullmatch(r"(\d{1,2})[.)]?", cells[0])
        if number:
            return f"{number[1]}. {cells[-1]}"
        return f"{cells[0]}: {' '.join(cells[1:])}"


def _tidy(text: str) -> str:
    text = re.sub(f"\n?{_EDGE}+", "\n", text)
    lines = [ln.strip(" \t\xa0") for ln in text.replace("\r", "").split("\n")]
    out: list[str] = []
    for ln in lines:
        if not ln and out and not out[-1]:
            continue  # block boundaries leave runs of blank lines: keep one
        out.append(ln)
    return "\n".join(out).strip("\n")


def html_to_text(markup: str, *, mark_quotes: bool = False) -> str:
    """Visible text of an HTML body.

    mark_quotes=False drops the quoted original (blockquotes, Gmail's quote, everything from
    Outlook's divRplyFwdMsg on); True keeps it with '> ' before each quoted line, so inline
    answers between quoted questions can still be placed.
    """
    builder = _TreeBuilder()
    try:
        builder.feed(markup)
        builder.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken declarations
        pass
    renderer = _Renderer(mark_quotes)
    text = renderer.render(builder.root)
    if mark_quotes and renderer.after_original:
        text = _mark_after_original(builder.root, text)
    return _tidy(text)


def _mark_after_original(root: _Node, text: str) -> str:
    """Quote everything from the original's marker on (Outlook's original is not a blockquote)."""
    own = _Renderer(mark=False).render(root)
    own_lines = [ln for ln in _tidy(own).split("\n")]
    lines = _tidy(text).split("\n")
    n = len(own_lines)
    # The own part is a prefix of the full rendering: quote what follows it.
    return "\n".join(lines[:n] + ["> " + ln if not ln.startswith(">") else ln for ln in lines[n:]])
