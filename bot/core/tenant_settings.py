"""A tenant's file, validated (pydantic): mail and who may answer, signing keys, reminders,
retention, the staff chat; secrets only by reference."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.core import redact
from bot.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecretRef(_Strict):
    """A secret by reference only: the name of an environment variable or of a file."""

    env: str | None = None
    file: Path | None = None

    def resolve(self, what: str) -> str:
        """The secret's value, registered so that no log line carries it (bot/redact.py)."""
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(
                    f"The environment variable {self.env} (the {what}) is not set; set it "
                    "before starting dpabot."
                )
            return redact.register(value)
        if self.file:
            try:
                return redact.register(self.file.read_text().strip())
            except OSError as exc:
                raise ConfigError(f"The {what} file {self.file} cannot be read ({exc}).") from exc
        raise ConfigError(f"No {what} is configured: give 'env' or 'file'.")


class SmtpSettings(_Strict):
    host: str
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: SecretRef | None = None
    starttls: bool = True
    use_tls: bool = False
    ca_file: Path | None = None  # extra CA to trust (a private relay's certificate)
    # Connections at once per tenant and process (a bulk send's mails spread over them).
    connections: int = Field(default=4, ge=1, le=32)


class ImapSettings(_Strict):
    host: str
    port: int = Field(993, ge=1, le=65535)
    username: str
    password: SecretRef
    ssl: bool = True
    folder: str = "INBOX"
    # IDLE is re-issued (and the link checked with NOOP) this often: a silently dropped
    # connection is noticed within idle_seconds + timeout.
    idle_seconds: float = Field(default=540, ge=1, le=540)
    timeout: float = Field(default=30, gt=0)


class MaildirSettings(_Strict):
    outbox: Path | None = None  # default: <data_dir>/mail/<tenant>/outbox
    inbox: Path | None = None  # default: <data_dir>/mail/<tenant>/inbox


class MailSettings(_Strict):
    """[mail]: the tenant's mailbox, and who may answer for a customer (the trust rules).

    A reply is used only when (1) its reply token names an open contract of this tenant,
    (2) it comes from the invited address, or from an address of the same domain when
    ``allow_same_domain`` is on, or from an address listed for that invited address in
    ``allowed_senders`` (``"karolien@mooi.example" = ["office@mooi.example"]``), and (3) when
    ``authserv_id`` is set, the ``Authentication-Results`` header that this server added (only
    that authserv-id counts; the MTA must strip any it did not write) says DKIM or DMARC passed,
    and when ``dkim_verify`` is on, dkimpy verifies a DKIM signature aligned with the From domain.
    """

    address: str = Field(description="the tenant's mailbox, e.g. dpa@example.be")
    display_name: str | None = None
    transport: Literal["maildir", "imap"] = "maildir"
    smtp: SmtpSettings | None = None
    imap: ImapSettings | None = None
    maildir: MaildirSettings = MaildirSettings()
    allow_same_domain: bool = False
    allowed_senders: dict[str, list[str]] = {}
    authserv_id: str | None = None
    dkim_verify: bool = False
    # Bigger mails and attachments are kept but refused with an answer to the sender.
    max_message_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Reading a reply longer than this (crafted input) is stopped and the mail shunted.
    parse_timeout: float = Field(default=20.0, gt=0)

    @field_validator("allowed_senders")
    @classmethod
    def _allowed(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        return {k.lower(): [a.lower() for a in addrs] for k, addrs in v.items()}

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        local, sep, domain = v.partition("@")
        if not sep or not local or "." not in domain or "+" in local:
            raise ValueError("must be a plain address like dpa@example.be (no '+')")
        return v.lower()

    def reply_address(self, token: str) -> str:
        local, _, domain = self.address.partition("@")
        return f"{local}+{token}@{domain}"


class SigningSettings(_Strict):
    """[signing]: the processor's key (dev PKI, a PKCS#12 file or a PKCS#11 token), the
    customer CA, the timestamp authorities (tried in order) and the order of signatures."""

    mode: Literal["dev", "pkcs12", "pkcs11"] = "dev"
    pkcs12_file: Path | None = None
    passphrase: SecretRef | None = None
    # mode "pkcs11": the module (.so), the token's label, the private key's label (its
    # certificate carries the same label; other certificates on the token form the chain).
    pkcs11_lib: Path | None = None
    pkcs11_token: str | None = None
    pkcs11_key: str | None = None
    pkcs11_pin: SecretRef | None = None
    customer_ca_pkcs12: Path | None = None
    customer_ca_passphrase: SecretRef | None = None
    customer_ca_crl_url: str | None = None
    # An OCSP responder for the one-time certificates (put in them beside the CRL URL):
    # pyHanko's long-term validation uses OCSP for a leaf under an intermediate CA.
    customer_ca_ocsp_url: str | None = None
    tsa_url: str | None = None  # one TSA: the same as tsa_urls = [tsa_url]
    tsa_urls: list[str] = []  # tried in this order until one answers
    trust_roots: list[Path] = []
    # Roots a customer's own signing certificate must chain to when they return the PDF
    # signed with their own tool (e.g. the Belgian eID roots). Dev mode adds the dev root.
    customer_trust_roots: list[Path] = []
    # processor_first: the processor certifies, then the customer approves (the final mail
    # carries the certified PDF); customer_first: the customer approves, then the processor
    # adds an approval signature (a certification signature must be the document's first).
    order: Literal["processor_first", "customer_first"] = "processor_first"

    @model_validator(mode="after")
    def _one_tsa_list(self) -> SigningSettings:
        if self.tsa_url is not None:
            if self.tsa_urls and self.tsa_urls != [self.tsa_url]:
                raise ValueError("give either 'tsa_url' or 'tsa_urls', not both")
            self.tsa_urls = [self.tsa_url]
        return self


class ReminderSettings(_Strict):
    """[reminders]: reminder mails after so many days without agreement, then expiry."""

    after_days: list[int] = [7, 14]  # days after the invitation; one reminder each
    expire_after_days: int | None = Field(default=30, ge=1)  # None: never expire


class RetentionSettings(_Strict):
    """[retention]: how long personal data is kept, and when archive timestamps are renewed."""

    incomplete_days: int = Field(default=365, ge=1)  # contracts that never completed
    signed_years: int = Field(default=10, ge=1)  # signed contracts, from completion
    # Renew an archived PDF's timestamp when its TSA certificate expires within this margin.
    renew_margin_days: int = Field(default=365, ge=1)


class StaffMember(_Strict):
    """One person on a tenant's staff chat allowlist."""

    user_id: int = Field(gt=0, description="the person's numeric Telegram user id")
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "staff"] = "staff"
    # The language this person is answered in (default: the tenant's [telegram] language).
    language: Literal["nl", "fr", "en"] | None = None


class TelegramSettings(_Strict):
    """[telegram]: the tenant's staff chat bot (several tenants may share one token).

    Commands are taken from the people in ``staff`` only, in a private chat with the bot or in
    a group chat mapped to this tenant (``staff_chat_id``, ``chat_ids``); notifications go to
    ``staff_chat_id``. With ``digest = true``, completed contracts are told once a day at
    ``digest_hour`` (UTC) in one message instead of one message each.
    """

    token: SecretRef = Field(description="the bot token, by reference: { env = … } or { file = … }")
    staff_chat_id: int | None = None
    chat_ids: list[int] = []
    staff: list[StaffMember] = Field(min_length=1)
    digest: bool = False
    digest_hour: int = Field(default=8, ge=0, le=23)
    # The staff chat's language: notices in the group, and each member's answers unless the
    # member has a language of their own (default: the tenant's language).
    language: Literal["nl", "fr", "en"] | None = None
    # The bot's @username (without @): invitations then carry a deep link for customers
    # (https://t.me/<bot_username>?start=<token>) to complete and sign in the chat.
    bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")

    @field_validator("token")
    @classmethod
    def _token_ref(cls, v: SecretRef) -> SecretRef:
        if not v.env and not v.file:
            raise ValueError('give the token by reference: { env = "NAME" } or { file = "…" }')
        return v

    @field_validator("staff")
    @classmethod
    def _unique_staff(cls, v: list[StaffMember]) -> list[StaffMember]:
        seen: set[int] = set()
        for member in v:
            if member.user_id in seen:
                raise ValueError(f"user_id {member.user_id} is listed twice; list each person once")
            seen.add(member.user_id)
        return v

    def chats(self) -> set[int]:
        """Every chat id mapped to this tenant."""
        extra = {self.staff_chat_id} if self.staff_chat_id is not None else set()
        return set(self.chat_ids) | extra


class TenantSettings(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str
    template: str
    # A folder of the tenant's own templates (`dpabot template import … --dir`), relative to
    # the tenant file; its templates are usable by this tenant only.
    templates_dir: Path | None = None
    enterprise_number: str | None = None
    representative: str
    representative_function: str = ""
    place: str = ""
    language: Literal["nl", "fr", "en"] = "nl"
    mail: MailSettings
    signing: SigningSettings = SigningSettings()
    reminders: ReminderSettings = ReminderSettings()
    retention: RetentionSettings = RetentionSettings()
    telegram: TelegramSettings | None = None  # no [telegram]: no staff chat for this tenant
    # A file of its own is where this tenant came from; errors name it.
    source: Path | None = Field(default=None, exclude=True)
