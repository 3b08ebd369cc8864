"""Signed contracts kept: content-addressed files with their manifest and timestamp token,
checked again on demand, exported, timestamps renewed before they expire, personal data
erased when its time is up."""

from bot.archive.store import (
    EntryCheck,
    archive_contract,
    check_timestamp,
    export_zip,
    new_archive_id,
    timestamp_digest,
    verify_entry,
)

__all__ = [
    "EntryCheck",
    "archive_contract",
    "check_timestamp",
    "export_zip",
    "new_archive_id",
    "timestamp_digest",
    "verify_entry",
]
