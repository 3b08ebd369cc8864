"""Warnings a dpabot user cannot act on, silenced in each process dpabot starts."""

from __future__ import annotations

import warnings


def library_warnings() -> None:
    # cryptography 51 deprecates DSA, and pyHanko 0.38 imports its DSA key class when it is
    # imported: every command printed a warning meant for pyHanko's developers. dpabot makes
    # and accepts no DSA keys; a pyHanko that no longer imports DSA ends this.
    warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko(\.|$)")
