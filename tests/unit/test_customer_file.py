"""Customer files (CSV in every delimiter and encoding we meet, XLSX): rows read, every problem
named with its row number, nothing half-read."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from handlers.reader.customer_file import MAX_ROWS, read_customer_file

HEADER = "name,email,representative,enterprise_number,function,language"
MOOI = (
    "MOOI Schoonheidsverzorging,karolien@mooi.example,Karolien Piskor,BE0840.465.705,Zaakvoerder,nl"
)
UTOPIA = "UTOPIA,tineke@utopia.example,Tineke Verellen,,,fr"


def problems(data: bytes | str) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [str(p) for p in read_customer_file(raw).problems]


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- rows read -------------------------------------------------------------------------------


def test_comma_csv_rows_with_every_column():
    result = read_customer_file(f"{HEADER}\n{MOOI}\n{UTOPIA}\n".encode())
    assert result.ok, result.problems
    mooi, utopia = result.rows
    assert (mooi.row, mooi.name, mooi.email, mooi.representative) == (
        2,
        "MOOI Schoonheidsverzorging",
        "karolien@mooi.example",
        "Karolien Piskor",
    )
    assert mooi.enterprise_number == "BE0840.465.705"
    assert mooi.representative_function == "Zaakvoerder"
    assert mooi.language == "nl"
    assert (utopia.row, utopia.enterprise_number, utopia.representative_function) == (3, None, None)
    assert utopia.language == "fr"
    assert result.format == "csv (UTF-8, comma)"


@pytest.mark.parametrize(
    ("delimiter", "shown"), [(";", "semicolon"), ("\t", "tab"), (",", "comma")]
)
def test_dutch_headers_any_delimiter_and_bom(delimiter, shown):
    text = delimiter.join(["Naam", "E-mail", "Vertegenwoordiger", "Ondernemingsnummer", "Taal"])
    text += "\n" + delimiter.join(["Bakkerij Jansen, BV", "Jan@Jansen.example", "Jan", "", ""])
    if delimiter == ",":
        text = text.replace("Bakkerij Jansen, BV", '"Bakkerij Jansen, BV"')
    result = read_customer_file(("\ufeff" + text + "\r\n").encode())
    assert result.ok, result.problems
    (row,) = result.rows
    assert row.name == "Bakkerij Jansen, BV"
    assert row.email == "jan@jansen.example"  # stored lower case
    assert row.language == "nl"  # the default
    assert result.format == f"csv (UTF-8, {shown})"


def test_french_headers_and_aliases_case_and_accents_do_not_matter():
    text = (
        "NOM;Courriel;REPRÉSENTANT;Numéro d'entreprise;Fonction;Langue;Remarque\n"
        "Boulangerie Dupont;marie@dupont.example;Marie Dupont;0840 465 705;Gérante;Français;x\n"
    )
    result = read_customer_file(text.encode())
    assert result.ok, result.problems
    (row,) = result.rows
    assert (row.representative_function, row.language) == ("Gérante", "fr")
    assert row.enterprise_number == "BE0840.465.705"
    assert result.ignored_columns == ("Remarque",)
    assert result.columns["enterprise_number"] == "Numéro d'entreprise"


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("btw", "enterprise_number"),
        ("BTW-nummer", "enterprise_number"),
        ("VAT number", "enterprise_number"),
        ("functie", "representative_function"),
        ("taal", "language"),
        ("e mail", "email"),
        ("contactpersoon", "representative"),
    ],
)
def test_header_aliases(header, column):
    base = {"name": "naam", "email": "email", "representative": "vertegenwoordiger"}
    base[column] = header
    result = read_customer_file(
        (
            ",".join(base.values())
            + "\n"
            + ",".join(["A", "a@a.example", "Ann", *[""] * (len(base) - 3)])
            + "\n"
        ).encode()
    )
    assert result.ok, result.problems
    assert result.columns[column] == header


def test_cp1252_file_is_read_as_windows_1252():
    text = "Naam;E-mail;Vertegenwoordiger\nCafé Élan – Brasserie;eve@elan.example;Ève Müller\n"
    result = read_customer_file(text.encode("cp1252"))
    assert result.ok, result.problems
    (row,) = result.rows
    assert (row.name, row.representative) == ("Café Élan – Brasserie", "Ève Müller")
    assert result.format == "csv (Windows-1252, semicolon)"


def test_utf16_file_from_excel_unicode_text():
    text = "Naam\tE-mail\tVertegenwoordiger\r\nŁódź Café\tl@lodz.example\tŻaneta\r\n"
    result = read_customer_file(text.encode("utf-16"))
    assert result.ok, result.problems
    assert result.rows[0].name == "Łódź Café"
    assert result.format == "csv (UTF-16, tab)"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark(codec):
    text = "Naam;E-mail;Vertegenwoordiger\r\nŁódź Café;l@lodz.example;Żaneta\r\n"
    result = read_customer_file(text.encode(codec))
    assert result.ok, result.problems
    assert result.rows[0].name == "Łódź Café"
    assert result.format == "csv (UTF-16, semicolon)"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 4,  # binary: NULs with no pattern
        "name,email\n".encode("utf-16-le") + b"\x00\x00\x07\x00",  # a control character
        "name,email\n".encode("utf-16-le")[:-1],  # odd length
    ],
)
def test_binary_with_nuls_is_still_not_text(data):
    assert problems(data) == ["The file is not text (it holds NUL bytes); save it as CSV or XLSX."]


def test_blank_lines_and_trailing_empty_rows_are_skipped_row_numbers_kept():
    text = f"\n{HEADER}\n\n{MOOI}\n , ,\n,,,,,\n{UTOPIA}\n\n\n"
    result = read_customer_file(text.encode())
    assert result.ok, result.problems
    assert [r.row for r in result.rows] == [4, 7]


def test_excel_leading_zero_lost_and_quoted_formula_number():
    text = f'{HEADER}\nA,a@a.example,Ann,840465705,,\nB,b@b.example,Bob,"=""0840465705""",,\n'
    result = read_customer_file(text.encode())
    assert result.ok, result.problems
    assert [r.enterprise_number for r in result.rows] == ["BE0840.465.705", "BE0840.465.705"]


def test_foreign_vat_number_kept_as_given():
    result = read_customer_file(f"{HEADER}\nA,a@a.example,Ann,NL123456789B01,,en\n".encode())
    assert result.ok, result.problems
    assert result.rows[0].enterprise_number == "NL123456789B01"


def test_language_names():
    rows = "\n".join(
        f"C{i},c{i}@c.example,R,,,{lang}"
        for i, lang in enumerate(["NL", "Nederlands", "fr-BE", "frans", "English", "EN", ""])
    )
    result = read_customer_file(f"{HEADER}\n{rows}\n".encode())
    assert result.ok, result.problems
    assert [r.language for r in result.rows] == ["nl", "nl", "fr", "fr", "en", "en", "nl"]


# --- problems --------------------------------------------------------------------------------


def test_missing_required_columns_are_named():
    found = problems("naam;telefoon\nA;0475\n")
    assert found == [
        "row 1: the column 'email' (email address) is missing; name it one of: "
        "email, e-mail, mail, email address, e-mailadres, emailadres.",
        "row 1: the column 'representative' is missing; name it one of: representative, "
        "vertegenwoordiger, wettelijk vertegenwoordiger, représentant, représentant légal, "
        "contact.",
    ]


def test_two_columns_for_one_field():
    assert problems("name,email,e-mail,representative\nA,a@a.example,a@a.example,R\n") == [
        "row 1: the columns 'email' and 'e-mail' both give the email address; keep one of them."
    ]


def test_every_bad_row_is_reported_and_nothing_is_returned():
    text = "\n".join(
        [
            HEADER,
            MOOI,  # row 2 fine
            ",x@x.example,Xavier,,,",  # 3: empty name
            "Y,,Yves,,,",  # 4: empty email
            "Z,z@z.example,,,,",  # 5: empty representative
            "W,w@,Wim,,,",  # 6: bad email
            "V,Vera <v@v.example>,Vera,,,",  # 7: not only the address
            "U,u@u.example,Ulla,BE0840.465.706,,",  # 8: mod 97
            "T,t@t.example,Tom,12345,,",  # 9: not a number at all
            "S,KAROLIEN@mooi.example,Sam,,,",  # 10: duplicate of row 2
            "R,r@r.example,Rik,,,de",  # 11: unknown language
        ]
    )
    result = read_customer_file(text.encode())
    assert not result.ok
    assert result.rows == ()  # all or nothing
    assert [str(p) for p in result.problems] == [
        "row 3: the name is empty.",
        "row 4: the email address is empty.",
        "row 5: the representative is empty.",
        "row 6: 'w@' is not a valid email address (write only the address).",
        "row 7: 'Vera <v@v.example>' is not a valid email address (write only the address).",
        "row 8: 'BE0840.465.706' is not a valid enterprise number (Belgian: 10 digits whose "
        "last two are the mod-97 check, e.g. BE0840.465.705).",
        "row 9: '12345' is not a valid enterprise number (Belgian: 10 digits whose last two "
        "are the mod-97 check, e.g. BE0840.465.705).",
        "row 10: the email address karolien@mooi.example is also on row 2.",
        "row 11: the language 'de' is not known; use nl, fr or en.",
    ]
    assert all(p.row is not None for p in result.problems)


def test_mojibake_in_a_utf8_file_is_refused_not_imported():
    # UTF-8 once read as Windows-1252 and saved again: "Café" became "CafÃ©".
    text = "name;email;representative\nCafÃ© Ã‰lan;eve@elan.example;Ãˆve\n"
    assert problems(text) == [
        "row 2: the name 'CafÃ© Ã‰lan' holds 'Ã©', text that was saved in the wrong encoding; "
        "correct it and save the file as 'CSV UTF-8' or XLSX.",
        "row 2: the representative 'Ãˆve' holds 'Ãˆ', text that was saved in the wrong "
        "encoding; correct it and save the file as 'CSV UTF-8' or XLSX.",
    ]


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_refused():
    data = b"name;email;representative\nA;a@a.example;R\nB\x81;b@b.example;R\n"
    assert problems(data) == [
        "row 3: the byte 0x81 is neither UTF-8 nor Windows-1252 text; save the file as 'CSV UTF-8'."
    ]


def test_implausible_windows_1252_text_is_refused():
    # 0xA4 is '¤' in Windows-1252: no customer name holds it, another code page wrote this.
    data = b"name;email;representative\nA\xa4B\xe9;a@a.example;R\n"
    assert problems(data) == [
        "row 2: the file is not UTF-8 and its byte 0xA4 would read as '¤' in Windows-1252, "
        "which is not plausible text; save the file as 'CSV UTF-8'."
    ]


def test_characters_the_font_cannot_print():
    assert problems("name,email,representative\nShop 🛍,s@s.example,R\n") == [
        "row 2: the name holds characters the contract's font cannot print: '🛍'."
    ]


def test_too_long_value():
    assert problems(f"name,email,representative\n{'x' * 301},s@s.example,R\n") == [
        "row 2: the name is longer than 300 characters."
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "The file is empty: it needs a header row (name, email, representative)."),
        (b"\n\n ;;\n", "The file is empty: it needs a header row (name, email, representative)."),
        (b"name,email,representative\n\n", "The file has a header row but no customers."),
        (
            b"\xd0\xcf\x11\xe0rest",
            "The file is an old Excel workbook (.xls); save it as .xlsx or as CSV.",
        ),
        (b"name\x00,email\n", "The file is not text (it holds NUL bytes); save it as CSV or XLSX."),
    ],
)
def test_file_level_problems(data, reason):
    result = read_customer_file(data)
    assert [(p.row, p.reason) for p in result.problems] == [(None, reason)]


def test_too_many_rows():
    rows = "".join(f"C{i},c{i}@c.example,R\n" for i in range(MAX_ROWS + 1))
    result = read_customer_file(f"name,email,representative\n{rows}".encode())
    assert [str(p) for p in result.problems] == [
        f"row {MAX_ROWS + 2}: the file has more than {MAX_ROWS} customers; split it."
    ]


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_rows_numbers_and_dates_as_text():
    data = xlsx(
        [
            ["Naam", "E-mail", "Vertegenwoordiger", "Ondernemingsnummer", "Functie", "Taal"],
            [
                "MOOI Schoonheidsverzorging",
                "karolien@mooi.example",
                "Karolien Piskor",
                840465705,
                "Zaakvoerder",
                "NL",
            ],
            [None, None, None, None, None, None],
            ["Café Élan", "eve@elan.example", "Ève", "BE 0840.465.705", None, "fr"],
        ]
    )
    result = read_customer_file(data, "klanten.xlsx")
    assert result.ok, result.problems
    assert [(r.row, r.name, r.enterprise_number, r.language) for r in result.rows] == [
        (2, "MOOI Schoonheidsverzorging", "BE0840.465.705", "nl"),
        (4, "Café Élan", "BE0840.465.705", "fr"),
    ]
    assert result.format == "xlsx"


def test_xlsx_problems_carry_sheet_row_numbers():
    data = xlsx(
        [
            ["name", "email", "representative", "btw", "language"],
            ["A", "a@a.example", "Ann", None, None],
            ["B", "not-an-email", "Bob", None, None],
            ["C", "A@a.example", None, "BE0840465706", "nederlands"],
        ]
    )
    assert [str(p) for p in read_customer_file(data).problems] == [
        "row 3: 'not-an-email' is not a valid email address (write only the address).",
        "row 4: the representative is empty.",
        "row 4: 'BE0840465706' is not a valid enterprise number (Belgian: 10 digits whose last "
        "two are the mod-97 check, e.g. BE0840.465.705).",
        "row 4: the email address a@a.example is also on row 2.",
    ]


def test_xlsx_missing_column():
    data = xlsx([["name", "representative"], ["A", "Ann"]])
    assert [str(p) for p in read_customer_file(data).problems] == [
        "row 1: the column 'email' (email address) is missing; name it one of: email, e-mail, "
        "mail, email address, e-mailadres, emailadres."
    ]


def test_broken_xlsx_is_refused_in_one_sentence():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    result = read_customer_file(out.getvalue(), "klanten.xlsx")
    (problem,) = result.problems
    assert problem.row is None
    assert problem.reason.startswith("The file klanten.xlsx is not a readable XLSX workbook")
