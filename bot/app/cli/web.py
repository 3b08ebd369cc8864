"""The verification page: `dpabot verify-web` serves it over HTTP (uvicorn)."""

from __future__ import annotations

import argparse
import signal

from bot.app.cli.common import OK, UsageError


def cmd_verify_web(args: argparse.Namespace) -> int:
    # Imported here: the web server is for this command only.
    import uvicorn

    from bot.app.web import WebSettings, create_app

    if (
        args.max_mb < 1
        or args.per_minute <= 0
        or args.burst < 1
        or args.timeout <= 0
        or args.upload_timeout <= 0
        or args.per_client < 1
    ):
        raise UsageError(
            "--max-mb, --per-minute, --burst, --timeout, --upload-timeout and --per-client "
            "must be positive."
        )
    web = WebSettings(
        max_mb=args.max_mb,
        per_minute=args.per_minute,
        burst=args.burst,
        timeout=args.timeout,
        upload_timeout=args.upload_timeout,
        per_client=args.per_client,
    )
    # uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler found
    # before it started: a no-op one lets the command return, so atexit hooks run (the
    # embedded PostgreSQL of a demo configuration is stopped, not left behind).
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        create_app(args.config, web),
        host=args.host,
        port=args.port,
        # Behind a reverse proxy, the client address (for the rate limit) comes from
        # X-Forwarded-For, trusted from these addresses only.
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        # Each waiting upload holds up to --max-mb in memory while the one worker is busy:
        # beyond this many open connections uvicorn answers 503 at once.
        limit_concurrency=32,
        log_level="info" if args.verbose else "warning",
    )
    return OK
