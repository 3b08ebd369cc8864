"""/remind ID|all: mail the reminder now (it counts as one of the [reminders] mails)."""

from __future__ import annotations

from bot.contracts.reminders import WAITING, queue_reminder
from handlers.staff._context import StaffContext
from handlers.staff._registry import STAFF, command
from storage.errors import NotFound


@command(
    "remind",
    roles=STAFF,
    help="mail the reminder now to one customer or all waiting",
    usage="ID|all",
)
async def remind(sc: StaffContext) -> None:
    target = sc.args[0].lower().removeprefix("#").removeprefix(f"{sc.slug}-") if sc.args else ""
    sc.subject = target
    if target != "all" and not (target.isdigit() and len(target) < 10):
        await sc.reply_template("usage", command="remind")
        return
    sent: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    async with sc.repo() as repo:
        if target == "all":
            # A reply being handled right now wins; its contract is left out.
            contracts = list(await repo.lock_contracts_in(WAITING))
        else:
            try:
                contracts = [await repo.contract(int(target), for_update=True)]
            except NotFound:
                sc.detail["found"] = False
                await sc.reply_template("not_found", what="contract", ident=target)
                return
            sc.subject = f"contract:{target}"
        for contract in contracts:
            customer = await repo.customer(contract.customer_id)
            row = {"ref": f"#{contract.id}", "customer": customer.name, "state": contract.state}
            if contract.state not in WAITING:
                skipped.append(row)
                continue
            await queue_reminder(repo.session, sc.rt, sc.slug, repo, contract)
            sent.append(row)
    sc.detail.update({"sent": [r["ref"] for r in sent], "skipped": [r["ref"] for r in skipped]})
    await sc.reply_template("remind", sent=sent, skipped=skipped, all=target == "all")
