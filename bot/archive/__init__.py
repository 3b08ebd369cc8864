"""Signed contracts kept: content-addressed files with their manifest and timestamp token,
checked again on demand, exported, timestamps renewed before they expire, personal data
erased when its time is up."""

from bot.archive.certificate import certificate_for
from bot.archive.store import archive_contract, export_zip, new_archive_id, timestamp_digest
from bot.archive.verify import EntryCheck, check_timestamp, verify_entry

__all__ = [
    "EntryCheck",
    "archive_contract",
    "certificate_for",
    "check_timestamp",
    "export_zip",
    "new_archive_id",
    "timestamp_digest",
    "verify_entry",
]
