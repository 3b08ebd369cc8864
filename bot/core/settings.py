"""Configuration: dpabot.toml for the service and one TOML file per tenant (pydantic-settings)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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


class ArchiveSettings(_Strict):
    """[archive]: where signed contracts, evidence and manifests are kept.

    store "file" (the default): under <data_dir>/archive. store "s3": an S3-compatible bucket
    (AWS S3, Ceph RGW, …) at endpoint_url (none: AWS), with its keys by reference only:
    ``access_key_id = { env = "DPABOT_S3_KEY_ID" }``, ``secret_access_key = { file = "…" }``.
    """

    store: Literal["file", "s3"] = "file"
    endpoint_url: str | None = None
    bucket: str | None = None
    region: str = "us-east-1"
    access_key_id: SecretRef | None = None
    secret_access_key: SecretRef | None = None
    # "path" (bucket in the URL path) works with every S3-compatible server without DNS set-up.
    addressing_style: Literal["path", "virtual"] = "path"

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v


class TelegramServiceSettings(_Strict):
    """[telegram] in dpabot.toml: where the Bot API is (default: Telegram's own servers).

    ``base_url`` points at a local Bot API server (or the tests' stand-in); it ends in ``/bot``
    because the token is appended. ``base_file_url`` defaults to the same host's ``/file/bot``.
    """

    base_url: str | None = None
    base_file_url: str | None = None
    poll_timeout: int = Field(default=30, ge=1, le=50)  # getUpdates long poll, seconds
    notify_interval: float = Field(default=5, gt=0)  # seconds between notification rounds

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _bot_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("http://", "https://")) or not v.rstrip("/").endswith("/bot"):
            raise ValueError("must be an http(s) URL ending in '/bot' (the token is appended)")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _file_url(self) -> TelegramServiceSettings:
        if self.base_url and not self.base_file_url:
            self.base_file_url = self.base_url[: -len("/bot")] + "/file/bot"
        return self


class JobSettings(_Strict):
    """[jobs]: how soon the jobs of a worker that died are run again.

    A worker writes a heartbeat every ``stalled_after / 3`` seconds. One silent for
    ``stalled_after`` seconds counts as dead (killed, its machine gone), and every running
    `dpabot serve` or `dpabot worker` looks that often for the jobs it left running and queues
    them again: they start again within about ``stalled_after * 4 / 3`` seconds of the death.
    Keep it well above any pause a live worker may have (a busy machine, a slow database): a
    live worker taken for dead has its running jobs run a second time beside it.
    """

    stalled_after: float = Field(default=30, ge=1, le=3600)


class ServiceSettings(BaseSettings):
    """dpabot.toml, overridable by DPABOT_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="DPABOT_", extra="forbid")

    data_dir: Path = Path("var")
    database_url: str | None = None
    tenants: list[Path] = []
    log_level: str = "INFO"
    archive: ArchiveSettings = ArchiveSettings()
    telegram: TelegramServiceSettings = TelegramServiceSettings()
    jobs: JobSettings = JobSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, so DPABOT_DATABASE_URL points a config elsewhere.
        return (env_settings, init_settings)


def _sentence(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "missing":
        msg = "is required but missing"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known setting (check the spelling)"
    elif err["type"] == "string_pattern_mismatch":  # only slugs have a pattern
        msg = f"must be 2 to 63 lowercase letters, digits or '-' (got {err['input']!r})"
    else:
        msg = f"is invalid: {msg}"
        # A secret pasted where a reference belongs is not repeated into logs.
        secret = any(w in key for w in ("token", "password", "passphrase", "pin", "secret"))
        if "input" in err and not isinstance(err["input"], dict | list) and not secret:
            msg += f" (got {err['input']!r})"
    more = (
        f" ({len(exc.errors()) - 1} more problem(s) after this one)"
        if len(exc.errors()) > 1
        else ""
    )
    return f"{path}: key '{key}' {msg}{more}."


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"The configuration file {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc


def _relative(base: Path, p: Path | None) -> Path | None:
    return None if p is None else (p if p.is_absolute() else base / p)


def load_tenant(path: Path) -> TenantSettings:
    """One tenant file; paths inside it are relative to the file."""
    raw = _read_toml(path)
    try:
        tenant = TenantSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_sentence(path, exc)) from exc
    base = path.parent
    tenant.source = path
    s = tenant.signing
    s.pkcs12_file = _relative(base, s.pkcs12_file)
    s.customer_ca_pkcs12 = _relative(base, s.customer_ca_pkcs12)
    s.trust_roots = [p if p.is_absolute() else base / p for p in s.trust_roots]
    s.customer_trust_roots = [p if p.is_absolute() else base / p for p in s.customer_trust_roots]
    if s.mode == "pkcs12" and (s.pkcs12_file is None or not s.tsa_urls):
        raise ConfigError(
            f"{path}: key 'signing' in mode 'pkcs12' needs 'pkcs12_file' and 'tsa_url'."
        )
    if s.mode == "pkcs11" and (
        None in (s.pkcs11_lib, s.pkcs11_token, s.pkcs11_key, s.pkcs11_pin) or not s.tsa_urls
    ):
        raise ConfigError(
            f"{path}: key 'signing' in mode 'pkcs11' needs 'pkcs11_lib', 'pkcs11_token', "
            "'pkcs11_key', 'pkcs11_pin' and 'tsa_url' (or 'tsa_urls')."
        )
    s.pkcs11_lib = _relative(base, s.pkcs11_lib)
    m = tenant.mail
    if m.transport == "imap" and (m.imap is None or m.smtp is None):
        raise ConfigError(
            f"{path}: key 'mail' with transport 'imap' needs [mail.imap] and [mail.smtp]."
        )
    m.maildir.inbox = _relative(base, m.maildir.inbox)
    m.maildir.outbox = _relative(base, m.maildir.outbox)
    if tenant.telegram is not None:
        tenant.telegram.token.file = _relative(base, tenant.telegram.token.file)
    return tenant


def load_service(path: Path | None) -> ServiceSettings:
    """dpabot.toml (optional: without it, embedded defaults under ./var)."""
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        raw = _read_toml(path)
        base = path.parent
    try:
        settings = ServiceSettings(**raw)
    except ValidationError as exc:
        raise ConfigError(_sentence(path or Path("environment"), exc)) from exc
    settings.data_dir = (
        settings.data_dir if settings.data_dir.is_absolute() else base / settings.data_dir
    )
    settings.tenants = [p if p.is_absolute() else base / p for p in settings.tenants]
    for ref in (settings.archive.access_key_id, settings.archive.secret_access_key):
        if ref is not None:
            ref.file = _relative(base, ref.file)
    return settings
