"""A customer list into the tenant (all rows or none), and the preview of one invitation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from bot.contracts import invitations
from bot.core.runtime import Runtime
from bot.domain.workflow import State
from handlers.reader.customer_file import CustomerRow
from storage import audit
from storage.models import Contract, Customer


@dataclass(frozen=True)
class ExistingCustomer:
    """A row whose email address the tenant has as a customer already: skipped, not changed."""

    row: int
    email: str
    customer_id: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new customers, and rows skipped as already customers."""

    imported: int
    existing: tuple[ExistingCustomer, ...]
    customer_ids: tuple[int, ...]  # every row's customer, new or existing, in file order

    @property
    def rows(self) -> int:
        return self.imported + len(self.existing)


async def import_customers(
    rt: Runtime, slug: str, rows: Sequence[CustomerRow], actor: str
) -> ImportResult:
    """Add the file's customers to the tenant in one transaction.

    ``rows`` are those of a file read without problems (handlers.customer_file): the caller
    imports all or nothing. A row whose email address the tenant has already is skipped and
    counted ("already a customer"), never duplicated and never overwritten: the customer on
    file may have a contract under way with the details it was invited with.
    """
    rt.tenant(slug)  # an unknown tenant: ConfigError naming it
    async with rt.db.transaction() as s:
        repo = rt.repo(s, slug)
        emails = [r.email.lower() for r in rows]  # stored lower case, as add_customer does
        known = await repo.customers_by_emails(emails)
        fresh = [
            {**r.values(), "email": email}
            for r, email in zip(rows, emails, strict=True)
            if email not in known
        ]
        inserted = await repo.add_customers(fresh)
        # A concurrent import may have added some of ours between the two statements.
        late = [v["email"] for v in fresh if v["email"] not in inserted]
        if late:
            known.update(await repo.customers_by_emails(late))
        existing = tuple(
            ExistingCustomer(r.row, email, known[email].id)
            for r, email in zip(rows, emails, strict=True)
            if email in known
        )
        ids = {**{e: c.id for e, c in known.items()}, **inserted}
        result = ImportResult(
            imported=len(inserted),
            existing=existing,
            customer_ids=tuple(ids[email] for email in emails),
        )
        await audit.record(
            s,
            repo.tenant_id,
            actor,
            "customers.imported",
            slug,
            {"rows": len(rows), "imported": result.imported, "already_customers": len(existing)},
        )
    return result


@dataclass(frozen=True)
class Preview:
    """The invitation a customer would get, made the way invite() makes it; nothing stored."""

    to: str
    subject: str
    text: str
    html: str
    pdf: bytes
    pdf_filename: str
    message: EmailMessage


async def preview(rt: Runtime, slug: str, customer_id: int) -> Preview:
    """The invitation mail (subject, text, HTML) and draft PDF for one customer of the tenant,
    for staff to look at before confirming a send. Stores and queues nothing."""
    rt.tenant(slug)
    async with rt.db.transaction() as s:
        customer = await rt.repo(s, slug).customer(customer_id)
    return await _preview(rt, slug, customer)


async def preview_row(rt: Runtime, slug: str, row: CustomerRow) -> Preview:
    """preview() for a customer file's row not imported yet (a chat upload before confirming)."""
    rt.tenant(slug)
    customer = Customer(tenant_id=rt.scope(slug).id, **{**row.values(), "email": row.email.lower()})
    return await _preview(rt, slug, customer)


async def _preview(rt: Runtime, slug: str, customer: Customer) -> Preview:
    tenant = rt.tenant(slug)
    fields, draft = await invitations.render_draft(tenant, customer)
    # Never added to a session: the contract exists only for composing the mail.
    contract = Contract(
        customer_id=customer.id,
        template_id=tenant.template,
        state=State.DRAFT.value,
        reply_token="preview",
        current_version=1,
    )
    msg = invitations.invitation_mail(tenant, customer, contract, fields, draft)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    attachment = next(iter(msg.iter_attachments()))
    return Preview(
        to=customer.email,
        subject=str(msg["Subject"]),
        # The parts hold the wire's CRLF line ends; the preview is read as text.
        text=_lines(text.get_content()) if text is not None else "",
        html=_lines(html.get_content()) if html is not None else "",
        pdf=draft,
        pdf_filename=attachment.get_filename() or "ontwerp.pdf",
        message=msg,
    )


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n")
