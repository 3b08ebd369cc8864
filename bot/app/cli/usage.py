"""What the parser and the entry point need, and nothing heavy: exit codes, the usage error,
small argument parsers, --config given before the command."""

from __future__ import annotations

import argparse
from typing import Any

from bot.errors import DpabotError

OK, FAILURE, BAD_INPUT = 0, 1, 2


class UsageError(DpabotError):
    """Bad input from the command line (exit 2)."""


def date_arg(value: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from exc


def merge_config(args: argparse.Namespace) -> None:
    """``dpabot --config FILE COMMAND`` means ``dpabot COMMAND --config FILE``."""
    first = vars(args).pop("config_first", None)
    if first is None:
        return
    if args.command == "demo":
        raise UsageError(
            "dpabot demo makes its own configuration (WORKDIR/dpabot.toml); give it --workdir, "
            "not --config."
        )
    if not hasattr(args, "config"):
        return  # render, parse-reply, verify: no configuration needed
    if args.config is not None and args.config != first:
        raise UsageError("--config is given twice with different files; give it once.")
    args.config = first
