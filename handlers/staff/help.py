"""/help (and /start): what the asking person's role may do here."""

from __future__ import annotations

from handlers.staff._context import StaffContext
from handlers.staff._registry import STAFF, command


@command("help", roles=STAFF, help="what you can do here")
async def help_(sc: StaffContext) -> None:
    await sc.reply_template(
        "help",
        tenant=sc.tenant.name,
        name=sc.member.name,
        role=sc.role,
        commands=sc.registry.visible(sc.role),
        uploads=[u for u in sc.registry.uploads if sc.role in u.roles],
    )


@command("start", roles=STAFF, help="what you can do here", hidden=True)
async def start(sc: StaffContext) -> None:
    await help_(sc)
