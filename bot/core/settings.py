"""Configuration: dpabot.toml for the service and one TOML file per tenant (pydantic-settings)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.core.tenant_settings import (
    ImapSettings,
    MaildirSettings,
    MailSettings,
    ReminderSettings,
    RetentionSettings,
    SecretRef,
    SigningSettings,
    SmtpSettings,
    StaffMember,
    TelegramSettings,
    TenantSettings,
    _Strict,
)
from bot.errors import ConfigError


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
    tenant.templates_dir = _relative(base, tenant.templates_dir)
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


__all__ = [
    "ArchiveSettings",
    "ImapSettings",
    "JobSettings",
    "MailSettings",
    "MaildirSettings",
    "ReminderSettings",
    "RetentionSettings",
    "SecretRef",
    "ServiceSettings",
    "SigningSettings",
    "SmtpSettings",
    "StaffMember",
    "TelegramServiceSettings",
    "TelegramSettings",
    "TenantSettings",
    "load_service",
    "load_tenant",
]
