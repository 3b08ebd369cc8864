"""A shared draft stamped per customer: one Typst render, then each customer's values written
into it as a small incremental update (no parsing, no layout: a few hundred bytes appended).

The shared render leaves an empty box wherever a customer value goes (`<stamp>` in
`_lib/dpa.typ`). prepare() gives every page with such a box one empty content stream of its
own, drawn last, and the form font in its resources; stamp() appends a revision that replaces
those streams with the customer's text, and a cross-reference stream for them. The result is a
plain valid PDF (qpdf --check, pdftotext, pdffonts read it as any other).
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pikepdf
from pikepdf import Dictionary, Pdf

from templates._pdf_forms import FONT_RESOURCE, FormFont, _encode, _literal

STAMP_FONT = "DpaStamp"
MIN_SIZE = 7.0  # a value that fits only below this size is rendered whole instead
# Where the placeholder of a customer value is in the Typst data: "\ue000key\ue001".
PLACEHOLDER = "\ue000{}\ue001"


@dataclass(frozen=True)
class StampBox:
    """An empty box Typst left for a value: page 1-based, x/y its top-left from the page's
    top-left, w its width, in points; size the text size around it."""

    key: str
    page: int
    x: float
    y: float
    w: float
    size: float


@dataclass(frozen=True)
class SharedDraft:
    """The draft every customer of one tenant, template and text version gets, values apart."""

    pdf: bytes
    boxes: tuple[StampBox, ...]
    streams: tuple[tuple[int, int], ...]  # (page, object number of its stamp stream)
    heights: tuple[tuple[int, float], ...]  # (page, height in points)
    widths: tuple[int, ...]  # the stamp font's widths, codes 32..255
    trailer: bytes  # /Root, /Info and /ID of the shared render's trailer
    size: int  # its /Size: the next free object number
    startxref: int
    keys: tuple[str, ...]  # the values it takes (each non-empty)


def prepare(
    data: bytes, boxes: Sequence[StampBox], font: FormFont, keys: Iterable[str]
) -> SharedDraft:
    """The rendered shared draft with an empty stamp stream on each page that has a box."""
    pages = sorted({b.page for b in boxes})
    with Pdf.open(io.BytesIO(data)) as pdf:
        form = pdf.Root.AcroForm
        font_ref = form.DR.Font[f"/{FONT_RESOURCE}"]
        for number in pages:
            page = pdf.pages[number - 1]
            # The page's own drawing may leave its graphics state changed: it is wrapped in
            # q ... Q, and the stamp stream (drawn last) begins with that Q.
            page.contents_add(pdf.make_stream(b"q"), prepend=True)
            page.contents_add(pdf.make_stream(b"Q"), prepend=False)
            res = page.obj.get("/Resources", Dictionary())
            fonts = Dictionary({k: v for k, v in res.get("/Font", Dictionary()).items()})
            fonts[f"/{STAMP_FONT}"] = font_ref
            resources = Dictionary({k: v for k, v in res.items()})
            resources.Font = fonts
            page.obj.Resources = resources
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    base = out.getvalue()
    with Pdf.open(io.BytesIO(base)) as pdf:
        streams = []
        heights = []
        for number in pages:
            page = pdf.pages[number - 1]
            last = page.obj.Contents[len(page.obj.Contents) - 1]
            objnum, gen = last.objgen
            assert gen == 0 and last.read_bytes() == b"Q"
            streams.append((number, objnum))
            heights.append((number, float(page.mediabox[3])))
        t = pdf.trailer
        trailer = b"/Root " + t.Root.unparse()
        if "/Info" in t:
            trailer += b" /Info " + t.Info.unparse()
        first_id = bytes(t.ID[0])
        size = int(t.Size)
    found = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", base[-64:])
    assert found is not None
    return SharedDraft(
        pdf=base,
        boxes=tuple(boxes),
        streams=tuple(streams),
        heights=tuple(heights),
        widths=font.widths,
        trailer=trailer + b" /ID [<" + first_id.hex().encode() + b">",
        size=size,
        startxref=int(found.group(1)),
        keys=tuple(keys),
    )


def _text_ops(shared: SharedDraft, box: StampBox, value: str, height: float) -> bytes | None:
    data = _encode(" ".join(value.split()))
    if data.decode("cp1252", errors="replace") != " ".join(value.split()):
        return None  # a character WinAnsi cannot show: that customer's draft is rendered whole
    em = sum(shared.widths[b - 32] if b >= 32 else 0 for b in data) / 1000
    size = box.size
    while em * size > box.w:
        size -= 0.25
        if size < MIN_SIZE:
            return None
    baseline = height - (box.y + 0.75 * box.size)
    return (
        f"BT /{STAMP_FONT} {size:g} Tf 0 g {box.x:.2f} {baseline:.2f} Td ".encode()
        + _literal(data)
        + b" Tj ET"
    )


def stamp(shared: SharedDraft, values: Mapping[str, str]) -> bytes | None:
    """The shared draft with these values in its boxes; None when a value cannot be stamped
    (a character outside WinAnsi, or too long for its box): render that draft whole."""
    if sorted(k for k in shared.keys) != sorted(k for k, v in values.items() if v.strip()):
        raise ValueError("the values do not match the shared draft's placeholders")
    heights = dict(shared.heights)
    per_page: dict[int, list[bytes]] = {}
    for box in shared.boxes:
        ops = _text_ops(shared, box, values[box.key], heights[box.page])
        if ops is None:
            return None
        per_page.setdefault(box.page, []).append(ops)
    out = bytearray(shared.pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: list[tuple[int, int]] = []
    for page, objnum in shared.streams:
        body = zlib.compress(b"Q q 0 Tr\n" + b"\n".join(per_page.get(page, [])) + b"\nQ")
        offsets.append((objnum, len(out)))
        out += f"{objnum} 0 obj\n<</Length {len(body)}/Filter/FlateDecode>>\nstream\n".encode()
        out += body + b"\nendstream\nendobj\n"
    xref_num, xref_at = shared.size, len(out)
    offsets.append((xref_num, xref_at))
    offsets.sort()
    rows = b"".join(b"\x01" + off.to_bytes(4, "big") + b"\x00\x00" for _, off in offsets)
    index = " ".join(f"{num} 1" for num, _ in offsets)
    # The file identifier's second half names this revision (the first stays the document's).
    second = hashlib.md5(out[len(shared.pdf) :], usedforsecurity=False).hexdigest().encode()
    out += (
        f"{xref_num} 0 obj\n<</Type/XRef/Size {xref_num + 1}/Prev {shared.startxref}"
        f"/Index [{index}]/W [1 4 2]/Length {len(rows)} ".encode()
        + shared.trailer
        + b"<"
        + second
        + b">]>>\nstream\n"
        + rows
        + b"\nendstream\nendobj\n"
    )
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
