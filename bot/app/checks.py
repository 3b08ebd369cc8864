"""`dpabot tenant check`: can this tenant sign, receive, send and chat? One Check per part.

Signing (trust roots, key, customer CA, each TSA) decides whether a tenant may be added; mail
and Telegram are reported too. Network checks run concurrently, each with a short timeout.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from bot.app import checks_signing
from bot.app.check_result import Check
from bot.core.settings import ServiceSettings
from bot.core.tenant_settings import TenantSettings
from bot.errors import DpabotError

# The checks that decide whether a tenant can sign at all (tenant add refuses without them).
SIGNING = ("trust roots", "signing key", "customer CA", "TSA")


def blocking(check: Check) -> bool:
    return check.name.startswith(SIGNING)


async def run_checks(
    settings: ServiceSettings, tenant: TenantSettings, limit: float = 10
) -> list[Check]:
    """Every check of the tenant, in a fixed order (signing, mail, Telegram)."""
    jobs: list[Any] = []
    if tenant.signing.mode == "dev":
        first = [
            Check.passed(
                "signing",
                "the development PKI (made and served by dpabot itself; for trying dpabot, "
                "not for real contracts)",
            )
        ]
    else:
        roots_check, roots = checks_signing.trust_roots(tenant)
        first = [roots_check]
        jobs += [
            checks_signing.signing_key(tenant, roots),
            checks_signing.customer_ca(tenant, roots, limit),
        ]
        if not tenant.signing.tsa_urls:
            first.append(Check.failed("TSA", "'signing.tsa_url' (or 'tsa_urls') is not set."))
        jobs += [
            checks_signing.timestamp_authority(u, limit, roots) for u in tenant.signing.tsa_urls
        ]
    jobs += _mail_checks(tenant, limit)
    if tenant.telegram is not None:
        jobs.append(telegram(settings, tenant, limit))
    return first + list(await asyncio.gather(*jobs))


def _mail_checks(tenant: TenantSettings, limit: float) -> list[Any]:
    mail = tenant.mail
    if mail.transport == "maildir":
        return [_done(Check.passed("mail", "Maildir folders on this machine (no server to reach)"))]
    jobs: list[Any] = []
    jobs.append(imap(tenant, limit) if mail.imap else _done(_unset("IMAP", "mail.imap")))
    jobs.append(smtp(tenant, limit) if mail.smtp else _done(_unset("SMTP", "mail.smtp")))
    return jobs


async def _done(check: Check) -> Check:
    return check


def _unset(name: str, key: str) -> Check:
    return Check.failed(name, f"'[{key}]' is not set and the mail transport is 'imap'.")


async def imap(tenant: TenantSettings, limit: float) -> Check:
    """Log in, IDLE offered, the folder selected (what the listener does on start)."""
    from bot.transports.imap import ImapMailbox

    cfg = tenant.mail.imap
    assert cfg is not None
    name = f"IMAP {cfg.username}@{cfg.host}:{cfg.port}"
    try:
        box = ImapMailbox(
            cfg.host,
            cfg.port,
            cfg.username,
            cfg.password.resolve("IMAP password"),
            ssl=cfg.ssl,
            folder=cfg.folder,
            timeout=limit,
        )
        await asyncio.wait_for(box.connect(), limit)
    except TimeoutError:
        return Check.failed(name, f"The IMAP server did not answer within {limit:g} s.")
    except DpabotError as exc:
        return Check.failed(name, str(exc))
    except (OSError, ssl.SSLError) as exc:
        return Check.failed(name, f"The IMAP server cannot be reached ({_why(exc)}).")
    try:
        return Check.passed(name, f"logged in, IDLE offered, folder {cfg.folder} selected")
    finally:
        await box.close()


async def smtp(tenant: TenantSettings, limit: float) -> Check:
    """Connect, STARTTLS (or TLS) and log in, then quit: no mail is sent."""
    import aiosmtplib

    cfg = tenant.mail.smtp
    assert cfg is not None
    name = f"SMTP {cfg.host}:{cfg.port}"
    try:
        password = cfg.password.resolve("SMTP password") if cfg.password else None
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            username=cfg.username,
            password=password,
            use_tls=cfg.use_tls,
            start_tls=cfg.starttls and not cfg.use_tls,
            tls_context=ssl.create_default_context(cafile=str(cfg.ca_file))
            if cfg.ca_file
            else None,
            timeout=limit,
        )
        await asyncio.wait_for(client.connect(), limit)
    except DpabotError as exc:
        return Check.failed(name, str(exc))
    except aiosmtplib.SMTPAuthenticationError as exc:
        return Check.failed(
            name,
            f"The SMTP server refused the login of {cfg.username} ({exc.code} {exc.message}); "
            "check the user name and password.",
        )
    except (TimeoutError, aiosmtplib.SMTPTimeoutError):
        return Check.failed(name, f"The SMTP server did not answer within {limit:g} s.")
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return Check.failed(name, f"The SMTP server cannot be used ({_why(exc)}).")
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
    how = "TLS" if cfg.use_tls else "STARTTLS" if cfg.starttls else "no TLS"
    login = f", logged in as {cfg.username}" if cfg.username else ""
    return Check.passed(name, f"connected ({how}){login}")


async def telegram(settings: ServiceSettings, tenant: TenantSettings, limit: float) -> Check:
    """getMe with the tenant's token; the bot's @username is the one configured."""
    import httpx

    cfg = tenant.telegram
    assert cfg is not None
    name = "Telegram"
    base = settings.telegram.base_url or "https://api.telegram.org/bot"
    try:
        token = cfg.token.resolve("Telegram bot token")
        async with httpx.AsyncClient(timeout=limit) as client:
            response = await client.get(f"{base}{token}/getMe")
    except DpabotError as exc:
        return Check.failed(name, str(exc))
    except httpx.HTTPError as exc:
        # The exception's text may hold the URL, and the URL the token: only its kind is shown.
        return Check.failed(name, f"The Bot API cannot be reached ({type(exc).__name__}).")
    if response.status_code in (401, 404):
        return Check.failed(
            name, f"The Bot API refused the token ({response.status_code}); check [telegram] token."
        )
    try:
        me = response.json()["result"]
        username = str(me["username"])
    except (ValueError, KeyError, TypeError):
        return Check.failed(
            name, f"The Bot API answered getMe with HTTP {response.status_code}, not a bot."
        )
    if cfg.bot_username and cfg.bot_username.lower() != username.lower():
        return Check.failed(
            name,
            f"The token belongs to @{username}, but 'telegram.bot_username' says "
            f"@{cfg.bot_username}; the invitations' links would open the wrong bot.",
        )
    return Check.passed(name, f"the token belongs to @{username}")


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
