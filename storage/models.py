"""SQLAlchemy 2 models: every row but tenants carries tenant_id."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB, list[Any]: JSONB}


def _now() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _tenant_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True, nullable=False)


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The newest audit event, written with it: deleting the last events breaks no chain link,
    # so verification compares the chain's end with this anchor.
    audit_head_id: Mapped[int | None] = mapped_column(BigInteger)
    audit_head_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _now()


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("tenant_id", "telegram_user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin | staff
    created_at: Mapped[dt.datetime] = _now()


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        # A send reads a tenant's customers in id order, a page at a time (migration 0013).
        Index("ix_customers_tenant_id_id", "tenant_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(300))
    enterprise_number: Mapped[str | None] = mapped_column(String(32))
    representative: Mapped[str] = mapped_column(String(200))
    representative_function: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    created_at: Mapped[dt.datetime] = _now()


class Contract(Base):
    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), index=True)
    # The reply token is the only secret in a reply address: 128 random bits, unique.
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The Telegram deep link's payload (t.me/<bot>?start=<chat_token>): binds one chat, once.
    chat_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when retention (or an erasure request) removed the contract's personal data.
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ContractVersion(Base):
    __tablename__ = "contract_versions"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # The final PDF as mailed for signature (blob locator and hash): what a customer's own
    # signature must cover byte for byte.
    sent_pdf_path: Mapped[str | None] = mapped_column(Text)
    sent_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # Approved changes of article wording in force in this version ({article, title, text,
    # change_request}); the template prints them and marks the articles they replace.
    amendments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # what changed from the previous
    changed_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _now()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "message_id", name="uq_messages_tenant_message_id"),
        UniqueConstraint("tenant_id", "mailbox", "uidvalidity", "uid", name="uq_messages_imap"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(16), default="email")
    kind: Mapped[str] = mapped_column(String(32), default="")  # invitation, followup, reply, ...
    message_id: Mapped[str] = mapped_column(String(998))
    mailbox: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    from_addr: Mapped[str | None] = mapped_column(String(320))
    to_addr: Mapped[str | None] = mapped_column(String(998))
    subject: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # STORAGE EXTERNAL: migration 0012
    raw_sha256: Mapped[str] = mapped_column(String(64))
    # pending → one of: applied, followup_sent, rejected_sender, unknown_token, no_content,
    # ignored_auto_reply, shunted (error kept in detail), sent, send_failed
    outcome: Mapped[str] = mapped_column(String(32), default="pending", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    # For an outgoing final-version mail: the contract version it carries (what an acceptance
    # threaded under it accepts).
    version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = _now()
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    article: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # the customer's words
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|approved|rejected
    created_at: Mapped[dt.datetime] = _now()
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # A rejection's reason, or the wording approved (the customer's, or staff's counter-proposal).
    decision_text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer)  # the contract version it produced


class Signature(Base):
    __tablename__ = "signatures"
    # One signature per party per contract version: a re-sent version is signed again.
    __table_args__ = (UniqueConstraint("contract_id", "version", "party"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(16))  # processor | customer
    signer: Mapped[str] = mapped_column(String(400))
    # The signed PDF (for the processor: the one mailed as final version) in the blob store.
    blob_path: Mapped[str] = mapped_column(Text)
    cert_sha256: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))  # tenant_key | reply_acceptance
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = _now()


class ArchiveEntry(Base):
    __tablename__ = "archive_entries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    manifest_path: Mapped[str] = mapped_column(Text)
    customer_name: Mapped[str] = mapped_column(String(300))
    customer_enterprise_number: Mapped[str | None] = mapped_column(String(32))
    customer_email: Mapped[str] = mapped_column(String(320))
    validation_ok: Mapped[bool] = mapped_column()
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    # RFC 3161 response (DER TimeStampResp) over the manifest's SHA-256, beside the manifest.
    timestamp_path: Mapped[str | None] = mapped_column(Text)
    timestamp_sha256: Mapped[str | None] = mapped_column(String(64))
    # When a renewal last added a document timestamp (path/pdf_sha256 then name the new file).
    renewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The certificate of completion (signed PDF/A) and the archived PDF it describes.
    certificate_path: Mapped[str | None] = mapped_column(Text)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    certificate_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_tenant_id_id", "tenant_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Notification(Base):
    """Something staff must hear about; delivered by the staff channel (chat), kept here first."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "dedupe_key", "window_start", "part", name="uq_notifications_group"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    kind: Mapped[str] = mapped_column(String(32))  # shunted, rejected_sender, bounce, ...
    subject: Mapped[str] = mapped_column(String(200), default="")  # e.g. message:12, contract:3
    text: Mapped[str] = mapped_column(Text)  # plain words for staff (English)
    # The values its template needs (templates/chat/staff/<lang>/notice_*): worded at delivery
    # in the staff chat's language; NULL for rows older than that (delivered as stored).
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _now()
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Grouped notices (storage/notify.py notify_grouped): one row counts the mails of a group
    # (kind and sender, or the tenant) in a window; NULL for a notice about one thing.
    dedupe_key: Mapped[str | None] = mapped_column(String(400))
    window_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    part: Mapped[int | None] = mapped_column(Integer)  # 1, then 2… once one was delivered
    count: Mapped[int] = mapped_column(Integer, default=1)
    senders: Mapped[list[Any] | None] = mapped_column(JSONB)  # the tenant-wide group's senders
    deliver_after: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ChatBinding(Base):
    """A customer's Telegram user bound (or being bound) to one contract, and where the
    conversation stands: ``step`` is the question asked (``field:<id>``, ``typing:<id>``,
    ``accept``) so a restart loses nothing."""

    __tablename__ = "chat_bindings"
    __table_args__ = (
        UniqueConstraint("contract_id", "telegram_user_id", name="uq_chat_bindings_user"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | bound | locked
    code_hash: Mapped[str | None] = mapped_column(String(200))  # salt$sha256: never the code
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    bound_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ChatOutbox(Base):
    """A message for a customer's chat (staff decision, final PDF, signed copy), kept until the
    chat runner delivered it."""

    __tablename__ = "chat_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # decision | final | signed
    text: Mapped[str] = mapped_column(Text)
    document_path: Mapped[str | None] = mapped_column(Text)  # blob locator of a PDF to send
    filename: Mapped[str | None] = mapped_column(String(200))
    buttons: Mapped[list[Any] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _now()
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
