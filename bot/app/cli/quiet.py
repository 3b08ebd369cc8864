"""pyHanko's own logging kept off the terminal unless -v: it logs each validation problem as a
WARNING with a traceback, while dpabot's verdict says the same in one sentence."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

_LIBRARIES = ("pyhanko", "pyhanko_certvalidator")


@contextlib.contextmanager
def quiet_validation(verbose: bool) -> Iterator[None]:
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in _LIBRARIES]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, before, strict=True):
            lg.setLevel(level)
