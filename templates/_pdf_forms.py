"""AcroForm fields with pikepdf: invisible signature fields, prefilled text fields, reading back."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, String

FF_MULTILINE = 1 << 12
ANNOT_PRINT = 4
PAD = 3.0  # points between the box edge and the text
FONT_RESOURCE = "CarlitoForm"


@dataclass(frozen=True)
class FieldBox:
    """Where Typst placed a `<formfield>` box: page is 1-based, x/y from the top-left, in points."""

    key: str
    page: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class FormFont:
    """A WinAnsi subset of a TrueType font, ready to embed as a simple /TrueType font."""

    data: bytes
    tag: str
    widths: tuple[int, ...]  # codes 32..255, in 1/1000 em
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]


def _winansi_chars() -> list[tuple[int, str]]:
    out = []
    for code in range(32, 256):
        try:
            out.append((code, bytes([code]).decode("cp1252")))
        except UnicodeDecodeError:
            continue
    return out


@lru_cache(maxsize=4)
def load_form_font(path: Path) -> FormFont:
    """Subset the font to the WinAnsi characters so a viewer can also re-draw edited values."""
    from fontTools import subset  # imported lazily: only drafts need it
    from fontTools.ttLib import TTFont

    chars = _winansi_chars()
    # Carlito's 'created' stamp makes fontTools log a harmless warning; keep stamps as they are
    # (recalcTimestamp=False) so the subset, and so the PDF, is byte-identical on every run.
    head_log = logging.getLogger("fontTools.ttLib.tables._h_e_a_d")
    level = head_log.level
    head_log.setLevel(logging.ERROR)
    try:
        font = TTFont(str(path), recalcTimestamp=False)
        font["head"]  # decompile now, while the warning is muted
    finally:
        head_log.setLevel(level)
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for _, c in chars] + [0xA0])
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = buf.getvalue()

    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    by_code = {code: ch for code, ch in chars}
    widths = []
    for code in range(32, 256):
        glyph = cmap.get(ord(by_code[code])) if code in by_code else None
        widths.append(round(hmtx[glyph][0] * scale) if glyph else 0)
    head, os2 = font["head"], font["OS/2"]
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(data).digest()[:6])
    return FormFont(
        data=data,
        tag=tag,
        widths=tuple(widths),
        ascent=round(os2.sTypoAscender * scale),
        descent=round(os2.sTypoDescender * scale),
        cap_height=round(getattr(os2, "sCapHeight", os2.sTypoAscender) * scale),
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),  # type: ignore[arg-type]
    )


def _font_dict(pdf: Pdf, font: FormFont, name: str) -> pikepdf.Object:
    file2 = pikepdf.Stream(pdf, font.data)
    file2.Length1 = len(font.data)
    base = Name("/" + f"{font.tag}+{name}")
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=base,
        Flags=32,  # nonsymbolic: glyphs found by WinAnsi name → Unicode → cmap
        FontBBox=Array(list(font.bbox)),
        ItalicAngle=0,
        Ascent=font.ascent,
        Descent=font.descent,
        CapHeight=font.cap_height,
        StemV=80,
        FontFile2=file2,
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.TrueType,
            BaseFont=base,
            FirstChar=32,
            LastChar=255,
            Widths=Array(list(font.widths)),
            Encoding=Name.WinAnsiEncoding,
            FontDescriptor=pdf.make_indirect(descriptor),
        )
    )


def _encode(text: str) -> bytes:
    return text.encode("cp1252", errors="replace")


def _width(data: bytes, font: FormFont, size: float) -> float:
    return sum(font.widths[b - 32] if b >= 32 else 0 for b in data) * size / 1000


def _wrap(text: str, font: FormFont, size: float, width: float) -> list[bytes]:
    lines: list[bytes] = []
    for para in text.replace("\r\n", "\n").split("\n"):
        line = b""
        for word in (_encode(w) for w in para.split()):
            candidate = line + b" " + word if line else word
            if _width(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while _width(word, font, size) > width and len(word) > 1:  # break an over-long word
                cut = len(word) - 1
                while cut > 1 and _width(word[:cut], font, size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _literal(data: bytes) -> bytes:
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _appearance(
    pdf: Pdf,
    font_ref: pikepdf.Object,
    font: FormFont,
    value: str,
    w: float,
    h: float,
    multiline: bool,
) -> pikepdf.Object:
    inner_w = max(w - 2 * PAD, 1.0)
    size = 10.0
    while True:  # shrink until the value fits the box (down to 6 pt, then let it clip)
        leading = size * 1.2
        lines = (
            _wrap(value, font, size, inner_w) if multiline else [_encode(" ".join(value.split()))]
        )
        if size <= 6 or len(lines) * leading <= h - 2 * PAD:
            break
        size -= 0.5
    first = (
        h - PAD - font.ascent * size / 1000
        if multiline
        else (h - font.cap_height * size / 1000) / 2
    )
    ops = [
        b"/Tx BMC",
        b"q",
        f"{PAD} {PAD / 2} {inner_w} {h - PAD} re W n".encode(),
        b"BT",
        f"/{FONT_RESOURCE} {size:g} Tf 0 g".encode(),
        f"{PAD} {first:.2f} Td".encode(),
        f"{leading:.2f} TL".encode(),
    ]
    for i, line in enumerate(lines):
        ops.append(_literal(line) + (b" Tj" if i == 0 else b" '"))
    ops += [b"ET", b"Q", b"EMC"]
    stream = pikepdf.Stream(pdf, b"\n".join(ops))
    stream.Type = Name.XObject
    stream.Subtype = Name.Form
    stream.BBox = Array([0, 0, w, h])
    stream.Resources = Dictionary(Font=Dictionary({"/" + FONT_RESOURCE: font_ref}))
    return stream


def save_pdf(pdf: Pdf, *, object_streams: bool = False) -> bytes:
    out = io.BytesIO()
    pdf.save(
        out,
        deterministic_id=True,
        # Objects packed into compressed streams: a draft shrinks by about 30% (108 to 77 KB)
        # at no extra cost to save, and every invitation mail carries one.
        object_stream_mode=(
            pikepdf.ObjectStreamMode.generate
            if object_streams
            else pikepdf.ObjectStreamMode.preserve
        ),
    )
    return out.getvalue()


def acroform(pdf: Pdf) -> pikepdf.Dictionary:
    if "/AcroForm" not in pdf.Root:
        pdf.Root.AcroForm = pdf.make_indirect(Dictionary(Fields=Array()))
    form = pdf.Root.AcroForm
    if "/Fields" not in form:
        form.Fields = Array()
    return form  # type: ignore[return-value]


def add_text_fields(
    data: bytes,
    boxes: Iterable[FieldBox],
    values: Mapping[str, str],
    tooltips: Mapping[str, str],
    font_path: Path,
) -> bytes:
    """Add a prefilled multi-line /Tx field over each box, with appearance streams."""
    font = load_form_font(font_path)
    with Pdf.open(io.BytesIO(data)) as pdf:
        font_ref = _font_dict(pdf, font, "Carlito")
        form = acroform(pdf)
        form.DR = Dictionary(Font=Dictionary({"/" + FONT_RESOURCE: font_ref}))
        form.DA = String(f"/{FONT_RESOURCE} 0 Tf 0 g")
        for box in boxes:
            page = pdf.pages[box.page - 1]
            top = float(page.mediabox[3])
            value = values.get(box.key, "")
            widget = pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Widget,
                    FT=Name.Tx,
                    T=String(box.key),
                    TU=String(tooltips.get(box.key, box.key)),
                    V=String(value),
                    DV=String(value),
                    Ff=FF_MULTILINE,
                    F=ANNOT_PRINT,
                    P=page.obj,
                    Rect=Array(
                        [
                            round(box.x, 3),
                            round(top - box.y - box.h, 3),
                            round(box.x + box.w, 3),
                            round(top - box.y, 3),
                        ]
                    ),
                    DA=String(f"/{FONT_RESOURCE} 0 Tf 0 g"),
                    MK=Dictionary(),
                )
            )
            widget.AP = Dictionary(N=_appearance(pdf, font_ref, font, value, box.w, box.h, True))
            if "/Annots" not in page.obj:
                page.obj.Annots = Array()
            page.obj.Annots.append(widget)
            form.Fields.append(widget)
        return save_pdf(pdf, object_streams=True)


def _walk(fields: pikepdf.Object, prefix: str = "") -> Iterator[tuple[str, pikepdf.Object]]:
    for field in fields:
        name = prefix + str(field.T) if "/T" in field else prefix.rstrip(".")
        if "/Kids" in field and any("/T" in kid for kid in field.Kids):
            yield from _walk(field.Kids, name + ".")
        else:
            yield name, field


def read_form_fields(data: bytes) -> dict[str, str]:
    """Text field name → value of a (possibly customer-filled) PDF form; other types left out."""
    with Pdf.open(io.BytesIO(data)) as pdf:
        if "/AcroForm" not in pdf.Root or "/Fields" not in pdf.Root.AcroForm:
            return {}
        out: dict[str, str] = {}
        for name, field in _walk(pdf.Root.AcroForm.Fields):
            if field.get("/FT") != Name.Tx:
                continue
            value = field.get("/V")
            out[name] = str(value) if isinstance(value, String) else ""
        return out
