"""The staff chat's registry: commands, inline-button callbacks and file uploads, with roles.

Add a command in a module of its own under handlers/staff/ (every module there is loaded)::

    @command("changes", roles=STAFF, help="open change requests of a contract: /changes ID")
    async def changes(sc: StaffContext) -> None:
        ...
        await sc.reply(text, buttons=[[("Approve", "cr:approve:12")]])

    @callback("cr", roles=ADMIN)
    async def decide(sc: StaffContext) -> None:   # sc.data == "approve:12"
        ...

The dispatcher checks who may run it, records one audit event per command (action
``chat.<name>`` unless the handler sets ``sc.action``; ``sc.subject`` and ``sc.detail`` say
what it concerned) and answers the button press.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.staff._context import StaffContext

Handler = Callable[["StaffContext"], Awaitable[None]]

ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "staff"})  # everyone on the allowlist
ROLES = STAFF


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    roles: frozenset[str]
    help: str
    usage: str = ""  # e.g. "ID|all"; shown by /help
    hidden: bool = False  # answered but not listed (/start, which Telegram sends first)


@dataclass(frozen=True)
class Callback:
    prefix: str  # callback data is "<prefix>:<rest>"; the handler gets <rest> as sc.data
    handler: Handler
    roles: frozenset[str]
    audit: bool = True  # page turning re-shows what a command already audited: False


@dataclass(frozen=True)
class Upload:
    name: str
    handler: Handler
    roles: frozenset[str]
    suffixes: frozenset[str]  # ".csv", ".xlsx": which uploaded files it takes
    help: str


@dataclass
class Registry:
    """Everything the staff chat answers to; the runner takes one (default: ``REGISTRY``)."""

    commands: dict[str, Command] = field(default_factory=dict)
    callbacks: dict[str, Callback] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        roles: Iterable[str] = STAFF,
        help: str,
        usage: str = "",
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register ``/name`` for the given roles, with one line of help."""
        allowed = _roles(roles)
        if not name.isascii() or not name.replace("_", "").isalnum() or name != name.lower():
            raise ValueError(f"Command name {name!r} must be lowercase letters, digits or '_'.")

        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"The staff chat command /{name} is registered twice.")
            self.commands[name] = Command(name, handler, allowed, help, usage, hidden)
            return handler

        return register

    def callback(
        self, prefix: str, *, roles: Iterable[str] = STAFF, audit: bool = True
    ) -> Callable[[Handler], Handler]:
        """Register the handler of inline buttons whose callback data starts with ``prefix:``."""
        allowed = _roles(roles)
        if not prefix or ":" in prefix:
            raise ValueError(f"Callback prefix {prefix!r} must be non-empty and without ':'.")

        def register(handler: Handler) -> Handler:
            if prefix in self.callbacks:
                raise ValueError(f"The callback prefix {prefix!r} is registered twice.")
            self.callbacks[prefix] = Callback(prefix, handler, allowed, audit)
            return handler

        return register

    def upload(
        self, name: str, *, suffixes: Iterable[str], roles: Iterable[str] = STAFF, help: str
    ) -> Callable[[Handler], Handler]:
        """Register the handler of uploaded files with these suffixes (sc.download() reads it)."""
        allowed = _roles(roles)
        wanted = frozenset(s.lower() for s in suffixes)

        def register(handler: Handler) -> Handler:
            taken = [u.name for u in self.uploads if u.suffixes & wanted]
            if taken:
                raise ValueError(f"Uploads {sorted(wanted)} are already taken by {taken}.")
            self.uploads.append(Upload(name, handler, allowed, wanted, help))
            return handler

        return register

    def visible(self, role: str) -> list[Command]:
        """The commands this role may run, in name order."""
        return [c for _, c in sorted(self.commands.items()) if role in c.roles and not c.hidden]

    def upload_for(self, filename: str) -> Upload | None:
        lower = filename.lower()
        for up in self.uploads:
            if any(lower.endswith(s) for s in up.suffixes):
                return up
        return None

    def copy(self) -> Registry:
        """A registry with the same entries, to add to without touching this one (tests)."""
        return Registry(dict(self.commands), dict(self.callbacks), list(self.uploads))


def _roles(roles: Iterable[str]) -> frozenset[str]:
    allowed = frozenset(roles)
    if not allowed or not allowed <= ROLES:
        raise ValueError(f"Roles must be some of {sorted(ROLES)} (got {sorted(allowed)}).")
    return allowed


REGISTRY = Registry()
command = REGISTRY.command
callback = REGISTRY.callback
upload = REGISTRY.upload
