"""The final PDF's two empty signature fields, appended as an incremental update so the document
Typst wrote stays byte for byte the file's first revision.

A field with a box (the template's <signature-box>) is visible: its signer draws the signature
there. Until then it has an empty appearance: PDF/A wants one on every annotation with an area.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, String

from templates._pdf_forms import ANNOT_PRINT, acroform, save_pdf


@dataclass(frozen=True)
class SigBox:
    """Where a signature is drawn: Typst's position (points from the page's top left)."""

    x: float
    y: float
    w: float
    h: float


def _signature_widget(
    pdf: Pdf, name: str, page: pikepdf.Object, box: SigBox | None
) -> tuple[pikepdf.Object, pikepdf.Object | None]:
    """An empty printable signature field merged with its widget, and its empty appearance.

    No box: invisible (zero Rect), no appearance needed."""
    widget = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Widget,
        FT=Name.Sig,
        T=String(name),
        F=ANNOT_PRINT,
        Rect=Array([0, 0, 0, 0]),
        P=page,
    )
    appearance = None
    if box is not None:
        top = float(page.MediaBox[3])
        x1, y1 = round(box.x, 2), round(top - box.y - box.h, 2)
        widget.Rect = Array([x1, y1, round(x1 + box.w, 2), round(y1 + box.h, 2)])
        appearance = pdf.make_stream(
            b"",
            Type=Name.XObject,
            Subtype=Name.Form,
            BBox=Array([0, 0, round(box.w, 2), round(box.h, 2)]),
        )
        widget.AP = Dictionary(N=appearance)
    return pdf.make_indirect(widget), appearance


def _stream_bytes(obj: pikepdf.Object) -> bytes:
    """An (unfiltered) stream object's dictionary and data, as an incremental update writes it."""
    data = obj.read_raw_bytes()
    head = Dictionary({k: v for k, v in obj.stream_dict.items() if k != "/Length"})
    head.Length = len(data)
    return head.unparse(resolved=True) + b"\nstream\n" + data + b"\nendstream"


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def add_signature_fields(
    data: bytes,
    page_number: int,
    names: Iterable[str],
    *,
    instance_id: bytes | None = None,
    boxes: Mapping[str, SigBox] | None = None,
) -> bytes:
    """Add empty signature fields (printable) on a 1-based page; SigFlags 3.

    ``boxes``: each named field's rectangle; a field without one is invisible (zero Rect).

    ``instance_id``: the update's own id (the second element of /ID, PDF 14.4); None keeps
    the document's, so the same data gives the same bytes.

    Appended as an incremental update: the document Typst wrote stays byte for byte as the
    file's first revision, and no rewrite of the whole file is needed (a full pikepdf save was
    a sixth of the render time).
    """
    prev = _STARTXREF.search(data[-1024:])
    if prev is None or b"xref" not in data[int(prev.group(1)) : int(prev.group(1)) + 8]:
        # not a classic xref file
        return _add_signature_fields_rewrite(data, page_number, names, boxes or {})
    with Pdf.open(io.BytesIO(data)) as pdf:
        if "/AcroForm" in pdf.Root:
            return _add_signature_fields_rewrite(data, page_number, names, boxes or {})
        page = pdf.pages[page_number - 1].obj
        changed = [pdf.Root, page]
        annots = page.get("/Annots")
        if annots is None:
            page.Annots = annots = Array()
        elif annots.is_indirect:
            changed.append(annots)
        widgets = []
        streams = []
        for name in names:
            widget, appearance = _signature_widget(pdf, name, page, (boxes or {}).get(name))
            annots.append(widget)
            widgets.append(widget)
            if appearance is not None:
                streams.append(appearance)
        form = pdf.make_indirect(Dictionary(Fields=Array(widgets), SigFlags=3))
        pdf.Root.AcroForm = form
        out = bytearray(data)
        if not out.endswith(b"\n"):
            out += b"\n"
        offsets: dict[tuple[int, int], int] = {}
        for obj in [*changed, *widgets, form]:
            num, gen = obj.objgen
            offsets[(num, gen)] = len(out)
            out += f"{num} {gen} obj\n".encode() + obj.unparse(resolved=True) + b"\nendobj\n"
        for obj in streams:
            num, gen = obj.objgen
            offsets[(num, gen)] = len(out)
            out += f"{num} {gen} obj\n".encode() + _stream_bytes(obj) + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n"
        for (num, gen), offset in sorted(offsets.items()):
            out += f"{num} 1\n{offset:010d} {gen:05d} n\r\n".encode()
        trailer = Dictionary(
            Size=max(int(pdf.trailer.Size), max(n for n, _ in offsets) + 1),
            Root=pdf.Root,
            Prev=int(prev.group(1)),
        )
        if "/Info" in pdf.trailer:
            trailer.Info = pdf.trailer.Info
        if "/ID" in pdf.trailer:
            trailer.ID = pdf.trailer.ID
            if instance_id is not None:
                trailer.ID = Array([pdf.trailer.ID[0], String(instance_id)])
        out += b"trailer\n" + trailer.unparse() + f"\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(out)


def _add_signature_fields_rewrite(
    data: bytes, page_number: int, names: Iterable[str], boxes: Mapping[str, SigBox]
) -> bytes:
    """Add empty signature fields (printable) on a 1-based page; SigFlags 3 (a full rewrite)."""
    with Pdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[page_number - 1]
        form = acroform(pdf)
        form.SigFlags = 3
        if "/Annots" not in page.obj:
            page.obj.Annots = Array()
        for name in names:
            widget, _ = _signature_widget(pdf, name, page.obj, boxes.get(name))
            page.obj.Annots.append(widget)
            form.Fields.append(widget)
        return save_pdf(pdf, object_streams=True)
