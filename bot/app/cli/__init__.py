"""The `dpabot` command line: one-sentence errors; exit 0 ok, 1 failure, 2 bad input.

One module per command group (service, documents, archive, customers, contracts); the parser
(parser.py) names each command's function as "module:function", and only that module is
imported when the command runs, so a command pays for no other command's libraries.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import types

from bot.app.cli.parser import build_parser
from bot.app.cli.usage import BAD_INPUT, FAILURE, UsageError, merge_config
from bot.core import redact
from bot.errors import ConfigError, DpabotError
from bot.quiet import library_warnings

__all__ = ["build_parser", "main"]


def _command(ref: str) -> object:
    module, _, name = ref.partition(":")
    # Imported when the command runs (see the module docstring): start-up cost per command.
    return getattr(importlib.import_module(f"bot.app.cli.{module}"), name)


def main(argv: list[str] | None = None) -> int:
    # Before anything logs: no secret nor bot token in a log line, whatever level is set.
    redact.install()
    # By function, not `quiet.…`: importing the submodule bot.app.cli.quiet (verify, archive)
    # rebinds the name `quiet` in this package's namespace.
    library_warnings()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # fontTools logs every glyph name of each font the signature stamps subset, at INFO.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    try:
        merge_config(args)
        run = _command(args.run)
        assert callable(run)
        result = run(args)
        if isinstance(result, types.CoroutineType):
            import asyncio  # here: --help and the commands that need no loop start faster

            result = asyncio.run(result)
        return int(result)
    except DpabotError as exc:
        print(f"dpabot: {redact.redact(str(exc))}", file=sys.stderr)
        return BAD_INPUT if isinstance(exc, UsageError | ConfigError) else FAILURE
    except KeyboardInterrupt:
        return FAILURE
    except BrokenPipeError:
        # The reader went away (`dpabot … | head`): what it wanted it has; the rest of the
        # output goes nowhere, and Python's flush at exit would raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return FAILURE
    except Exception as exc:  # the last wall: one sentence, not a traceback
        # The error's words may quote a URL or a library's message holding a secret.
        said = redact.redact(str(exc))
        print(
            f"dpabot: unexpected error ({type(exc).__name__}: {said}); run with -v and report it.",
            file=sys.stderr,
        )
        logging.getLogger(__name__).debug("traceback", exc_info=True)
        return FAILURE
