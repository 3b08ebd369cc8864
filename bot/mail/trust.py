"""Trust that needs the database: whether a reply accepts the current final version, and which
contract a bounce names (the pure checks are bot.mail.steps)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import quotes_version
from bot.domain.workflow import OPEN_STATES, State
from handlers.reader.mime import ParsedMail
from handlers.reader.pipeline import (
    bounce_references,
)
from storage.models import Contract, Message
from storage.repositories import TenantRepo


async def answers_final(repo: TenantRepo, contract: Contract, mail: ParsedMail) -> bool:
    """The reply accepts the current final version, without doubt.

    Its In-Reply-To/References point at a final mail of the current version, or it quotes that
    version's fingerprint (bot.final_mail). The subject is the same for every version and
    proves nothing; thread headers of an older version's mail do not carry over.
    """
    if contract.state != State.AWAITING_SIGNATURE:
        return False
    version = await repo.version(contract)
    if version.sent_pdf_sha256 is None:
        return False  # the final version has not gone out yet
    refs = {r.strip() for r in (mail.in_reply_to, *mail.references) if r.strip()}
    if refs & await repo.final_mail_ids(contract, version.number):
        return True
    return quotes_version(f"{mail.subject}\n{mail.text}", version.sent_pdf_sha256)


Settle = Callable[..., Awaitable[None]]


async def bounce(session: AsyncSession, repo: TenantRepo, row: Message, settle: Settle) -> None:
    """A DSN naming one of our Message-IDs or reply tokens is told to staff with its contract.

    It changes nothing of the contract: a delivery report passes no sender check (anyone can
    write one, naming the token of a forwarded invitation or a Message-ID from a thread he was
    copied on), so it must not close a contract and kill its token. Staff read it and decide;
    the customer can still answer. (A mail the SMTP server refuses while we send it is marked
    failed by the send job itself.)"""
    ids, tokens = bounce_references(row.raw)
    contract_id = None
    if ids:
        contract_id = await repo.contract_of_sent(ids)
    for token in tokens if contract_id is None else ():
        found = await repo.contract_by_token(token)
        contract_id = found.id if found is not None else None
        if contract_id is not None:
            break
    if contract_id is None:
        await settle(session, repo, row, "bounce", "delivery status notification for no contract")
        return
    contract = await repo.contract(contract_id)
    detail = (
        f"contract {contract.id} stays {contract.state} (still open to its customer): a delivery "
        "report proves nothing of who wrote it; check the address"
        if State(contract.state) in OPEN_STATES
        else f"contract {contract.id} is {contract.state}"
    )
    await settle(session, repo, row, "bounce", detail, contract)
