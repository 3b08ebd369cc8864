"""Bytes of a customer list to text: UTF-8 (with or without BOM), UTF-16, or Windows-1252 only
when every character is plausible; text garbled before it reached us is refused, not guessed."""

from __future__ import annotations

import re
import unicodedata

from handlers.reader.customer_columns import Problem

# Characters Windows-1252 text plausibly holds beyond ASCII, besides letters.
PLAUSIBLE = set("€‚„…†‡‰‹›‘’“”•–—™ ¡¢£¥§¨©ª«®°±²³´µ¶·¸¹º»¼½¾¿×÷")


NOT_WORD_LETTERS = set("ˆ˜ƒ")


def decode(data: bytes) -> tuple[str, str] | Problem:
    """(text, encoding name), or why the bytes are not text we can read without guessing."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return Problem(None, "The file starts as UTF-16 text but is not valid UTF-16.")
    if b"\x00" in data:
        unmarked = _utf16_without_bom(data)
        if unmarked is not None:
            return unmarked
        return Problem(None, "The file is not text (it holds NUL bytes); save it as CSV or XLSX.")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Excel on Windows saves "CSV" in Windows-1252 (a superset of Latin-1's
    # letters). Read it so only when every byte is a letter or ordinary punctuation there;
    # anything else (another code page) is refused rather than shown as wrong letters.
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        return Problem(
            line_of(data, exc.start),
            f"the byte 0x{data[exc.start]:02X} is neither UTF-8 nor Windows-1252 text; "
            "save the file as 'CSV UTF-8'.",
        )
    for i, ch in enumerate(text):
        if ord(ch) < 128 or ch in PLAUSIBLE:
            continue
        if unicodedata.category(ch).startswith("L") and ch not in NOT_WORD_LETTERS:
            continue
        return Problem(
            text.count("\n", 0, i) + 1,
            f"the file is not UTF-8 and its byte 0x{data[i]:02X} would read as '{ch}' in "
            "Windows-1252, which is not plausible text; save the file as 'CSV UTF-8'.",
        )
    return text, "Windows-1252"


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text saved without a byte order mark, told by its NUL pattern: in text of Latin
    letters every character's high byte is NUL, so NULs sit on odd offsets only (little
    endian) or even offsets only (big endian). Anything else holding NULs is not text."""
    if len(data) % 2 or len(data) < 4:
        return None
    pairs = len(data) // 2
    even_nuls, odd_nuls = data[0::2].count(0), data[1::2].count(0)
    for codec, high, low in (
        ("utf-16-le", odd_nuls, even_nuls),
        ("utf-16-be", even_nuls, odd_nuls),
    ):
        if low == 0 and high * 2 >= pairs:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                return None
            if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
                return None
            return text, "UTF-16"
    return None


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def garbled(text: str) -> str | None:
    """The fragment that is UTF-8 read as Windows-1252 ("CafÃ©" for "Café"), if any: such text
    was mangled before it reached us and would be mailed and printed that way."""
    for m in NON_ASCII_RUN.finditer(text):
        try:
            fixed = m.group().encode("cp1252").decode("utf-8")
        except UnicodeError:
            continue
        if fixed != m.group():
            return m.group()
    return None
