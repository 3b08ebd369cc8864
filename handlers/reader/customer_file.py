"""Read an uploaded customer list, CSV or XLSX (pure): columns by their nl/fr/en names, every row
checked, all problems reported with their row number; any problem means nothing is imported."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.reader.customer_columns import (
    ALIASES,
    COLUMNS,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    MAX_LEN,
    REQUIRED,
    WHAT,
    Problem,
    column_key,
)
from handlers.reader.text_decoding import decode, garbled
from handlers.text.lang import fold
from handlers.text.validate import belgian_enterprise_number_ok, email_ok, enterprise_number_ok
from templates import unprintable

__all__ = [
    "COLUMNS",
    "LANGUAGES",
    "MAX_BYTES",
    "MAX_ROWS",
    "CustomerFile",
    "CustomerRow",
    "Problem",
    "problems_text",
    "read_customer_file",
]

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000


@dataclass(frozen=True)
class CustomerRow:
    """One customer as read from the file; ``row`` is its row number there (the header is 1)."""

    row: int
    name: str
    email: str
    representative: str
    enterprise_number: str | None = None
    representative_function: str | None = None
    language: str = DEFAULT_LANGUAGE

    def values(self) -> dict[str, Any]:
        """The customer's columns, as the customers table stores them."""
        return {
            "name": self.name,
            "email": self.email,
            "representative": self.representative,
            "enterprise_number": self.enterprise_number,
            "representative_function": self.representative_function,
            "language": self.language,
        }


@dataclass(frozen=True)
class CustomerFile:
    """What a customer file holds: its rows, or (all-or-nothing) the problems to fix first."""

    rows: tuple[CustomerRow, ...]
    problems: tuple[Problem, ...]
    format: str = ""  # "xlsx", or "csv" with its encoding and delimiter
    columns: dict[str, str] = field(default_factory=dict)  # column id → header as written
    ignored_columns: tuple[str, ...] = ()  # headers that name none of our columns

    @property
    def ok(self) -> bool:
        return not self.problems


def read_customer_file(data: bytes, filename: str = "") -> CustomerFile:
    """Read a CSV (``,`` ``;`` or tab; UTF-8, UTF-16 or Windows-1252) or XLSX customer list.

    The format is told by the content (an XLSX file is a zip); ``filename`` only words the
    reasons. The result's ``problems`` name every row to fix; when there are any, import none.
    """
    if not data.strip():
        return _refused("The file is empty: it needs a header row (name, email, representative).")
    if len(data) > MAX_BYTES:
        return _refused(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return _refused("The file is an old Excel workbook (.xls); save it as .xlsx or as CSV.")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, filename)
    return _read_csv(data)


def _refused(reason: str, row: int | None = None, fmt: str = "") -> CustomerFile:
    return CustomerFile(rows=(), problems=(Problem(row, reason),), format=fmt)


# --- decoding ---------------------------------------------------------------------------------


# --- CSV and XLSX -----------------------------------------------------------------------------


def _read_csv(data: bytes) -> CustomerFile:
    decoded = decode(data)
    if isinstance(decoded, Problem):
        return CustomerFile(rows=(), problems=(decoded,), format="csv")
    text, encoding = decoded
    delimiter = _delimiter(text)
    shown = {"\t": "tab", ",": "comma", ";": "semicolon"}[delimiter]
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read_records(enumerate(records, start=1), f"csv ({encoding}, {shown})")
    except csv.Error as exc:
        return _refused(f"The CSV file cannot be read: {exc}.", fmt="csv")


def _delimiter(text: str) -> str:
    """The delimiter that splits the header into the most column names we know."""
    header = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header], delimiter=delimiter), [])
        return sum(column_key(c) in ALIASES for c in cells), len(cells)

    return max(("\t", ";", ","), key=score)


def _read_xlsx(data: bytes, filename: str) -> CustomerFile:
    import openpyxl  # imported lazily: only XLSX uploads need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        what = f"The file {filename}" if filename else "The file"
        return _refused(f"{what} is not a readable XLSX workbook ({exc}).", fmt="xlsx")
    try:
        if not book.worksheets:
            return _refused("The workbook has no worksheet.", fmt="xlsx")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read every row
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        return _read_records(
            ((i, [_cell_text(v) for v in r]) for i, r in enumerate(rows, start=1)), "xlsx"
        )
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed in Excel: 840465705.0 is 840465705
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


# --- rows -------------------------------------------------------------------------------------


def _clean(cell: str) -> str:
    cell = cell.replace("\u00a0", " ").strip()
    # ="0840465705" is how Excel users keep leading zeros in a CSV.
    m = re.fullmatch(r'="(.*)"', cell)
    return m.group(1).strip() if m else cell


def _read_records(records: Iterator[tuple[int, Sequence[str]]], fmt: str) -> CustomerFile:
    header_row, header = 0, []
    for number, cells in records:
        if any(_clean(c) for c in cells):
            header_row, header = number, [_clean(c) for c in cells]
            break
    if not header:
        return _refused("The file is empty: it needs a header row (name, email, representative).")
    columns, ignored, problems = _map_header(header, header_row)
    if problems:
        return CustomerFile(
            rows=(), problems=tuple(problems), format=fmt, ignored_columns=tuple(ignored)
        )
    rows: list[CustomerRow] = []
    first_seen: dict[str, int] = {}
    for number, cells in records:
        values = {col: _clean(cells[i]) if i < len(cells) else "" for col, i in columns.items()}
        if not any(_clean(c) for c in cells):
            continue  # blank lines and the empty rows spreadsheets leave at the end
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(
                Problem(number, f"the file has more than {MAX_ROWS} customers; split it.")
            )
            break
        row, row_problems, email = _read_row(number, values)
        problems.extend(row_problems)
        if email:
            earlier = first_seen.setdefault(email, number)
            if earlier != number:
                problems.append(
                    Problem(number, f"the email address {email} is also on row {earlier}.")
                )
                continue
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem(None, "The file has a header row but no customers."))
    return CustomerFile(
        rows=tuple(rows) if not problems else (),
        problems=tuple(problems),
        format=fmt,
        columns={col: header[i] for col, i in columns.items()},
        ignored_columns=tuple(ignored),
    )


def _map_header(header: list[str], row: int) -> tuple[dict[str, int], list[str], list[Problem]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for i, name in enumerate(header):
        col = ALIASES.get(column_key(name)) if name else None
        if col is None:
            if name:
                ignored.append(name)
            continue
        if col in columns:
            problems.append(
                Problem(
                    row,
                    f"the columns '{header[columns[col]]}' and '{name}' both give the "
                    f"{WHAT[col]}; keep one of them.",
                )
            )
            continue
        columns[col] = i
    for col in REQUIRED:
        if col not in columns:
            accepted = ", ".join(COLUMNS[col][:6])
            what = "" if WHAT[col] == col else f" ({WHAT[col]})"
            problems.append(
                Problem(row, f"the column '{col}'{what} is missing; name it one of: {accepted}.")
            )
    return columns, ignored, problems


def _read_row(
    number: int, values: dict[str, str]
) -> tuple[CustomerRow | None, list[Problem], str | None]:
    """The row as a customer, or its problems; and its email address when that one is valid."""
    problems: list[Problem] = []

    def bad(reason: str) -> None:
        problems.append(Problem(number, reason))

    for col in REQUIRED:
        if not values.get(col):
            bad(f"the {WHAT[col]} is empty.")
    for col, value in values.items():
        if not value:
            continue
        if col in MAX_LEN and len(value) > MAX_LEN[col]:
            bad(f"the {WHAT[col]} is longer than {MAX_LEN[col]} characters.")
        fragment = garbled(value)
        if fragment is not None:
            bad(
                f"the {WHAT[col]} '{value}' holds '{fragment}', text that was saved in the "
                "wrong encoding; correct it and save the file as 'CSV UTF-8' or XLSX."
            )
            continue
        unprintable = _unprintable(value)
        if unprintable:
            bad(
                f"the {WHAT[col]} holds characters the contract's font cannot print: "
                f"{', '.join(repr(ch) for ch in unprintable[:5])}."
            )
    email: str | None = values.get("email", "")
    if email:
        email = re.sub(r"^mailto:", "", email.strip("<>"), flags=re.IGNORECASE).strip().lower()
        if not email_ok(email):
            bad(f"'{values['email']}' is not a valid email address (write only the address).")
            email = None
    number_value = values.get("enterprise_number", "")
    enterprise: str | None = None
    if number_value:
        enterprise = _enterprise_number(number_value)
        if enterprise is None:
            bad(
                f"'{number_value}' is not a valid enterprise number (Belgian: 10 digits whose "
                "last two are the mod-97 check, e.g. BE0840.465.705)."
            )
    lang_value = values.get("language", "")
    language = LANGUAGES.get(fold(lang_value)) if lang_value else DEFAULT_LANGUAGE
    if language is None:
        bad(f"the language '{lang_value}' is not known; use nl, fr or en.")
    if problems or not email or language is None:
        return None, problems, email
    return (
        CustomerRow(
            row=number,
            name=values["name"],
            email=email,
            representative=values["representative"],
            enterprise_number=enterprise,
            representative_function=values.get("representative_function") or None,
            language=language,
        ),
        [],
        email,
    )


def _enterprise_number(value: str) -> str | None:
    """The number as stored (Belgian ones as BE0840.465.705), or None when it is not valid."""
    compact = re.sub(r"[\s.\-/]", "", value).upper()
    if re.fullmatch(r"(BE)?\d{9}", compact):
        compact = compact.replace("BE", "") if compact.startswith("BE") else compact
        compact = "0" + compact  # a spreadsheet dropped the leading zero
    if re.fullmatch(r"(BE)?[01]\d{9}", compact):
        if not belgian_enterprise_number_ok(compact):
            return None
        digits = compact.removeprefix("BE")
        return f"BE{digits[:4]}.{digits[4:7]}.{digits[7:]}"
    return value.strip() if enterprise_number_ok(value) else None


def _unprintable(value: str) -> list[str]:
    if value.isascii() and value.isprintable():
        return []  # the contract's font has every printable ASCII character
    return unprintable(value)


def problems_text(problems: Iterable[Problem]) -> str:
    """One line per problem, as the CLI and the chat show them."""
    return "\n".join(str(p) for p in problems)
