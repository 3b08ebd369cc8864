"""/changes, /approve, /reject, /counter: staff decide customers' change requests in chat."""

from __future__ import annotations

from bot.contracts import negotiation
from bot.errors import WorkflowError
from handlers.staff._context import StaffContext
from handlers.staff._registry import STAFF, callback, command
from storage.errors import NotFound

_SHOWN_BUTTONS = 10  # one approve button per request, for the first ones listed


@command("changes", roles=STAFF, help="open change requests, with the article they concern")
async def changes(sc: StaffContext) -> None:
    items = await negotiation.open_requests(sc.rt, sc.slug, sc.actor, lang=sc.lang)
    sc.detail["open"] = len(items)
    buttons = [
        [(sc.say("button_approve", id=i), f"cr:approve:{i}")] for i, _ in items[:_SHOWN_BUTTONS]
    ]
    await sc.reply_template("changes", buttons=buttons or None, items=[t for _, t in items])


def _target(sc: StaffContext) -> tuple[int | None, str]:
    """The change request id and the rest of the line (note, reason or wording)."""
    first, _, rest = sc.text.partition(" ")
    ident = first.removeprefix("#")
    if not ident.isdigit() or len(ident) > 9:
        return None, ""
    sc.subject = f"change_request:{ident}"
    return int(ident), rest.strip()


async def _decide(sc: StaffContext, action: negotiation.Action) -> None:
    cr_id, text = _target(sc)
    if cr_id is None or (action != "approve" and not text):
        await sc.reply_template("usage", command=action)
        return
    await _carry_out(sc, cr_id, action, text)


async def _carry_out(sc: StaffContext, cr_id: int, action: negotiation.Action, text: str) -> None:
    """One decision, answered in the chat: what it did, or why it could not be done."""
    try:
        decision = await negotiation.decide_change(
            sc.rt, sc.slug, cr_id, actor=sc.actor, action=action, text=text
        )
    except NotFound:
        sc.detail["found"] = False
        await sc.reply_template("not_found", what="change_request", ident=cr_id)
        return
    except negotiation.DecisionRefused as exc:
        sc.detail["refused"] = str(exc)
        await sc.reply_template("decision_refused", reason=exc.reason, **exc.params)
        return
    except WorkflowError as exc:
        sc.detail["refused"] = str(exc)
        await sc.reply(str(exc))
        return
    sc.detail.update({"status": decision.status, "version": decision.version})
    await sc.reply_template("decided", d=decision, slug=sc.slug)


@command(
    "approve",
    roles=STAFF,
    help="accept the customer's wording (note optional)",
    usage="ID [note]",
)
async def approve(sc: StaffContext) -> None:
    await _decide(sc, "approve")


@command(
    "reject",
    roles=STAFF,
    help="refuse a change; the reason goes to the customer",
    usage="ID reason",
)
async def reject(sc: StaffContext) -> None:
    await _decide(sc, "reject")


@command(
    "counter", roles=STAFF, help="answer with your own wording of the article", usage="ID text"
)
async def counter(sc: StaffContext) -> None:
    await _decide(sc, "counter")


@callback("cr", roles=STAFF)
async def approve_button(sc: StaffContext) -> None:
    action, _, ident = sc.data.partition(":")
    if action != "approve" or not ident.isdigit() or len(ident) > 9:
        await sc.reply_template("cr_button_invalid")
        return
    sc.subject = f"change_request:{ident}"
    await _carry_out(sc, int(ident), "approve", "")
