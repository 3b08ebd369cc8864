"""Messages for a customer's chat: kept in the chat outbox until the chat runner sends them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.models import ChatOutbox, Contract, Customer
from storage.repositories import TenantRepo
from templates.chat import render_customer

if TYPE_CHECKING:  # python-telegram-bot costs 0.2 s to import; only the type is needed here
    from bot.transports.telegram import Buttons


@dataclass
class Reply:
    """One message for the customer: text, optional inline buttons, optional PDF."""

    text: str
    buttons: Buttons | None = None
    document: tuple[str, bytes] | None = None


def final_reply(
    lang: str,
    tenant_name: str,
    contract: Contract,
    sha: str,
    pdf: bytes,
    processor_signed: bool = True,
) -> Reply:
    """The final PDF with the SHA-256 and the explicit acceptance button."""
    text = render_customer(
        "final", lang, tenant_name=tenant_name, sha256=sha, processor_signed=processor_signed
    )
    button = render_customer("button_accept", lang)
    return Reply(
        text,
        buttons=[[(button, f"accept:{contract.current_version}:{sha[:16]}")]],
        document=(f"verwerkersovereenkomst-{contract.id}-v{contract.current_version}.pdf", pdf),
    )


async def queue_for_chat(
    repo: TenantRepo,
    contract: Contract,
    kind: str,
    text: str,
    *,
    document_path: str | None = None,
    filename: str | None = None,
    buttons: Buttons | None = None,
) -> ChatOutbox | None:
    """Queue a message to the contract's bound chat (none bound: nothing, returns None)."""
    b = await repo.bound_binding(contract.id)
    if b is None:
        return None
    if kind == "final":
        b.step = "accept"
    return await repo.add_chat_message(
        contract_id=contract.id,
        chat_id=b.chat_id,
        kind=kind,
        text=text,
        document_path=document_path,
        filename=filename,
        buttons=[[list(btn) for btn in r] for r in buttons] if buttons else None,
        attempts=0,
    )


async def queue_final(
    repo: TenantRepo,
    tenant_name: str,
    customer: Customer,
    contract: Contract,
    path: str,
    sha: str,
    processor_signed: bool,
) -> None:
    """The final PDF (signed by the processor when it signs first) with the accept button."""
    reply = final_reply(customer.language, tenant_name, contract, sha, b"", processor_signed)
    assert reply.document is not None
    await queue_for_chat(
        repo,
        contract,
        "final",
        reply.text,
        document_path=path,
        filename=reply.document[0],
        buttons=reply.buttons,
    )
