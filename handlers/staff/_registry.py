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

from handlers.staff._context import (
    ADMIN,
    ROLES,
    STAFF,
    Callback,
    Command,
    Handler,
    Registry,
    Upload,
)

__all__ = [
    "ADMIN",
    "REGISTRY",
    "ROLES",
    "STAFF",
    "Callback",
    "Command",
    "Handler",
    "Registry",
    "Upload",
    "callback",
    "command",
    "upload",
]


REGISTRY = Registry()
command = REGISTRY.command
callback = REGISTRY.callback
upload = REGISTRY.upload
