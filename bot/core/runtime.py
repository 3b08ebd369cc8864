"""The running service's shared parts: database, job queue, tenants, mail, signing, stores."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import redact
from bot.core.postgres import database_url
from bot.core.settings import ServiceSettings, TenantSettings
from bot.core.stores import archive_store
from bot.core.tenancy import TenantScope
from bot.core.tenant_signing import TenantSigning, for_tenant
from bot.core.tenant_templates import register_tenant_templates
from bot.errors import ConfigError
from bot.transports import ImapMailbox, MaildirMailbox, MaildirSender, MailSender, SmtpSender
from storage.blobs import BlobStore, FileBlobStore
from storage.database import Database
from storage.repositories import TenantRepo, ensure_tenant
from storage.scope import APP_ROLE

if TYPE_CHECKING:
    from signing import DevPKI

log = logging.getLogger(__name__)
_current: Runtime | None = None


@dataclass
class Runtime:
    settings: ServiceSettings
    tenants: dict[str, TenantSettings]
    db: Database
    app: procrastinate.App
    blobs: FileBlobStore
    archive: BlobStore
    tenant_ids: dict[str, int] = field(default_factory=dict)  # slug → row id; see scope()
    senders: dict[str, MailSender] = field(default_factory=dict)
    signing: dict[str, TenantSigning] = field(default_factory=dict)
    pki: DevPKI | None = None
    # DNS TXT lookup for DKIM keys (dkimpy's dnsfunc); None: real DNS. Tests inject their keys.
    dkim_dns: Any | None = None

    def scope(self, slug: str) -> TenantScope:
        """The tenant's scope (id, slug, settings); an unknown slug is a ConfigError."""
        settings = self.tenant(slug)
        return TenantScope(self.tenant_ids[slug], slug, settings)

    def scopes(self) -> list[TenantScope]:
        """Every configured tenant's scope."""
        return [self.scope(slug) for slug in self.tenants]

    def repo(self, session: AsyncSession, slug: str) -> TenantRepo:
        """The tenant's repository on this session, which then acts for that tenant only
        (row-level security included)."""
        return self.scope(slug).repo(session)

    def tenant(self, slug: str) -> TenantSettings:
        try:
            return self.tenants[slug]
        except KeyError:
            raise ConfigError(f"There is no tenant '{slug}' in this configuration.") from None

    def maildir(self, slug: str, which: str) -> Path:
        t = self.tenant(slug).mail.maildir
        configured = t.inbox if which == "inbox" else t.outbox
        path = configured or self.settings.data_dir / "mail" / slug / which
        path.parent.mkdir(parents=True, exist_ok=True)  # Maildir makes only the last folder
        return path

    def mailbox(self, slug: str) -> Any:
        """A fresh mailbox adapter for the tenant's listener."""
        mail = self.tenant(slug).mail
        if mail.transport == "maildir":
            return MaildirMailbox(self.maildir(slug, "inbox"))
        assert mail.imap is not None
        return ImapMailbox(
            mail.imap.host,
            mail.imap.port,
            mail.imap.username,
            mail.imap.password.resolve("IMAP password"),
            ssl=mail.imap.ssl,
            folder=mail.imap.folder,
            timeout=mail.imap.timeout,
        )


def _sender(rt: Runtime, tenant: TenantSettings) -> MailSender:
    mail = tenant.mail
    if mail.transport == "maildir":
        return MaildirSender(rt.maildir(tenant.slug, "outbox"))
    assert mail.smtp is not None
    return SmtpSender(
        mail.smtp.host,
        mail.smtp.port,
        username=mail.smtp.username,
        password=mail.smtp.password.resolve("SMTP password") if mail.smtp.password else None,
        starttls=mail.smtp.starttls,
        use_tls=mail.smtp.use_tls,
        tls_context=(
            ssl.create_default_context(cafile=str(mail.smtp.ca_file)) if mail.smtp.ca_file else None
        ),
        connections=mail.smtp.connections,
    )


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("dpabot's runtime is not started in this process.")
    return _current


@asynccontextmanager
async def open_core(
    settings: ServiceSettings,
    tenants: list[TenantSettings],
    register_tasks: Callable[[procrastinate.App], None],
) -> AsyncIterator[Runtime]:
    """Start everything the service needs; stop it all on exit.

    ``register_tasks`` puts the task table on the job queue's App (bot.app.tasks: the tasks
    call into every capability, so the table lives above them all, not here).
    """
    global _current
    redact.install()  # whoever embeds dpabot: secrets stay out of its logs too
    slugs = [t.slug for t in tenants]
    if len(set(slugs)) != len(slugs):
        raise ConfigError("Two tenant files use the same slug; each tenant needs its own.")
    register_tenant_templates(tenants)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    archive = archive_store(settings)
    # A wrong bucket, endpoint or key stops the start with its sentence, not the first archiving.
    await archive.async_check()
    # The service acts as the app role: row-level security holds for every query it makes.
    db = Database(database_url(settings), role=APP_ROLE)
    await db.upgrade()
    # A new App per runtime (tests open several), its tasks registered by the caller.
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=db.url))
    register_tasks(app)
    rt = Runtime(
        settings=settings,
        tenants={t.slug: t for t in tenants},
        db=db,
        app=app,
        blobs=FileBlobStore(settings.data_dir / "blobs"),
        archive=archive,
    )
    dev_tenants = [t.slug for t in tenants if t.signing.mode == "dev"]
    if dev_tenants:
        # Imported here: pyHanko and certomancer cost a start-up that only dev mode needs.
        from signing import DevPKI

        rt.pki = DevPKI.load_or_create(settings.data_dir / "pki", dev_tenants)
        rt.pki.start()
    try:
        async with db.transaction() as s:
            for t in tenants:
                rt.tenant_ids[t.slug] = (await ensure_tenant(s, t.slug, t.name)).id
        for t in tenants:
            rt.signing[t.slug] = for_tenant(t, rt.pki)
            rt.senders[t.slug] = _sender(rt, t)
        async with app.open_async():
            _current = rt
            yield rt
    finally:
        _current = None
        for sender in rt.senders.values():
            await sender.aclose()  # connections kept for the next send
        if rt.pki is not None:
            rt.pki.stop()
        await db.dispose()
