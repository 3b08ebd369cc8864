"""What the chat asks a customer next: the first missing answer, or the final version to accept."""

from __future__ import annotations

from bot.chat.context import Ctx, tenant_name
from bot.contracts.negotiation import missing_fields
from bot.domain.workflow import OPEN_STATES, State
from bot.outbox.chat import Reply, final_reply
from templates import load_manifest


async def final_prompt(c: Ctx) -> list[Reply]:
    version = await c.repo.version(c.contract)
    if version.sent_pdf_path is None or version.sent_pdf_sha256 is None:
        return [Reply(c.t("final_coming"))]
    c.binding.step = "accept"
    tenant = c.rt.tenant(c.slug)
    pdf = c.rt.blobs.get(version.sent_pdf_path)
    signed = c.rt.signing[c.slug].order == "processor_first"
    return [final_reply(c.lang, tenant.name, c.contract, version.sent_pdf_sha256, pdf, signed)]


async def next_step(c: Ctx) -> list[Reply]:
    """The next question, or where the contract stands when there is none."""
    state = State(c.contract.state)
    if state not in OPEN_STATES:
        return [
            Reply(c.t("closed", state=c.t("state", state=state.value), tenant_name=tenant_name(c)))
        ]
    if state == State.NEGOTIATING:
        c.binding.step = ""
        return [Reply(c.t("waiting_staff"))]
    if state == State.AWAITING_SIGNATURE:
        return await final_prompt(c)
    version = await c.repo.version(c.contract)
    missing = missing_fields(c.contract.template_id, version.fields)
    if not missing:
        return [Reply(c.t("final_coming"))]
    return [ask(c, missing[0])]


def ask(c: Ctx, fid: str) -> Reply:
    spec = load_manifest(c.contract.template_id).fields[fid]
    proposal = spec.default or ""
    text = c.t(
        "ask_field",
        number=spec.number,
        label=spec.label(c.lang),
        question=spec.question.get(c.lang, ""),
        proposal=proposal,
    )
    if not proposal:
        c.binding.step = f"typing:{fid}"
        return Reply(text)
    c.binding.step = f"field:{fid}"
    return Reply(
        text, buttons=[[(c.t("button_ok"), f"ok:{fid}"), (c.t("button_edit"), f"edit:{fid}")]]
    )
