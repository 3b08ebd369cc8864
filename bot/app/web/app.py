"""The verification page: an ASGI app (Starlette) where anyone drops a signed PDF and reads
what ``dpabot verify`` says about it, in plain words, in nl, fr or en.

Uploads are read into memory within a size limit (``upload.py``), checked in a memory-capped
worker process with a timeout (``check.py``) against this installation's trust roots
(``roots.py``), compared with the archive by SHA-256 only (``archive_match.py``), and
forgotten: nothing is written anywhere. Each client address gets a few uploads a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.app.web.archive_match import ArchiveMatch, find_archived
from bot.app.web.check import Checker, CheckResult
from bot.app.web.explain import explain
from bot.app.web.limits import InFlight, RateLimiter, client_key
from bot.app.web.roots import TrustRoot, installation_roots
from bot.app.web.upload import UploadRefused, read_upload
from bot.core.runtime import database_url
from bot.core.settings import ServiceSettings, load_service, load_tenant
from storage.database import Database
from storage.scope import APP_ROLE
from templates.web import pick_language, render_verify_page

__all__ = ["WebSettings", "create_app"]

log = logging.getLogger(__name__)

_HEADERS = {
    # No script at all; inline styles only; the form posts to this page only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _headers(status: int) -> dict[str, str]:
    # A refused upload (too large, too slow, too many) may not have been read to its end: the
    # connection is closed after the answer, so the client cannot keep holding it.
    return {**_HEADERS, "Connection": "close"} if status in (400, 408, 413, 429) else _HEADERS


@dataclass(frozen=True)
class WebSettings:
    """The page's limits (``dpabot verify-web`` options)."""

    max_mb: int = 20
    per_minute: float = 6
    burst: int = 6
    timeout: float = 60.0  # seconds one file may take in the worker
    # Seconds the whole upload may take to arrive: a client trickling its bytes holds a
    # connection (the page has 32) until then, not for ever.
    upload_timeout: float = 30.0
    per_client: int = 2  # uploads one client (IPv4 address, IPv6 /64) may have in progress
    max_memory_mb: int = 1024  # the worker's address space

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


@dataclass
class _State:
    roots: list[TrustRoot]
    slugs: list[str]
    checker: Checker
    limiter: RateLimiter
    db: Database | None
    inflight: InFlight


async def _open_db(settings: ServiceSettings) -> Database | None:
    try:
        return Database(await asyncio.to_thread(database_url, settings), role=APP_ROLE)
    except Exception as exc:  # the page still checks signatures without its archive
        log.warning("The archive's database cannot be opened (%s): archive matching is off.", exc)
        return None


def _outcome(
    web: WebSettings,
    result: CheckResult | None,
    problem: str | None,
    archive: ArchiveMatch | None,
    archive_off: bool,
) -> dict[str, Any]:
    """The one answer both the HTML page and the JSON API give."""
    view = explain(result.report) if result and result.report is not None else None
    problem = problem or (result.problem if result else None)
    return {
        "verdict": problem or (view.verdict if view else "unreadable"),
        "problem": problem is not None,
        "sha256": result.sha256 if result else None,
        "view": view,
        "report": result.report if result else None,
        "archive": archive,
        "archive_off": archive_off,
        "max_mb": web.max_mb,
    }


def create_app(config: Path | None = None, web: WebSettings | None = None) -> Starlette:
    """The page for the installation configured by ``config`` (default ./dpabot.toml)."""
    web = web or WebSettings()
    if config is None and Path("dpabot.toml").exists():
        config = Path("dpabot.toml")
    settings = load_service(config)
    tenants = [load_tenant(p) for p in settings.tenants]
    roots = installation_roots(settings, tenants)
    state: _State | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal state
        checker = Checker(
            [r.der for r in roots],
            timeout=web.timeout,
            max_memory=web.max_memory_mb * 1024 * 1024,
        )
        checker.warm_up()
        db = await _open_db(settings) if tenants else None
        state = _State(
            roots,
            [t.slug for t in tenants],
            checker,
            RateLimiter(web.per_minute, web.burst),
            db,
            InFlight(web.per_client),
        )
        try:
            yield
        finally:
            checker.close()
            if db is not None:
                await db.dispose()

    async def verify(request: Request) -> dict[str, Any]:
        assert state is not None
        client = client_key(request.client.host if request.client else "?")
        if not state.limiter.allow(client, time.monotonic()) or not state.inflight.enter(client):
            return _outcome(web, None, "rate_limited", None, False)
        try:
            return await _verify(request)
        finally:
            state.inflight.leave(client)

    async def _verify(request: Request) -> dict[str, Any]:
        assert state is not None
        try:
            async with asyncio.timeout(web.upload_timeout):
                pdf = await read_upload(
                    request.headers.get("content-type"),
                    request.headers.get("content-length"),
                    request.stream(),
                    web.max_bytes,
                )
        except UploadRefused as exc:
            return _outcome(web, None, exc.reason, None, False)
        except TimeoutError:
            return _outcome(web, None, "too_slow", None, False)
        result = await state.checker.check(pdf)
        del pdf  # the upload's bytes go no further than the worker
        archive, archive_off = None, state.db is None
        if result.problem is None and state.db is not None:
            try:
                archive = await find_archived(state.db, state.slugs, result.sha256)
            except Exception as exc:  # an outage must not hide the signature report
                log.warning("The archive could not be consulted: %s", exc)
                archive_off = True
        return _outcome(web, result, None, archive, archive_off)

    def _status(outcome: dict[str, Any]) -> int:
        if not outcome["problem"]:
            return 200
        return {
            "too_large": 413,
            "rate_limited": 429,
            "no_file": 400,
            "bad_request": 400,
            "too_slow": 408,
        }.get(outcome["verdict"], 422)

    def page(request: Request, **context: Any) -> Response:
        assert state is not None
        lang = pick_language(
            request.headers.get("accept-language"), request.query_params.get("lang")
        )
        context.setdefault("max_mb", web.max_mb)
        html = render_verify_page(lang, roots=state.roots, **context)
        status = context.get("status", 200)
        return HTMLResponse(html, status_code=status, headers=_headers(status))

    async def home(request: Request) -> Response:
        if request.method == "GET":
            return page(request)
        outcome = await verify(request)
        return page(request, status=_status(outcome), **outcome)

    async def api(request: Request) -> Response:
        outcome = await verify(request)
        view = outcome.pop("view")
        archive = outcome.pop("archive")
        body = {
            **outcome,
            "signatures": [asdict(s) for s in view.signatures] if view else [],
            "changed": view.changed if view else None,
            "archive": {"archived_on": archive.archived_on.isoformat()} if archive else None,
        }
        status = _status(outcome)
        return JSONResponse(body, status_code=status, headers=_headers(status))

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/", home, methods=["GET", "POST"]),
            Route("/api/verify", api, methods=["POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )
