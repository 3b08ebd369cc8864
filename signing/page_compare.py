"""Whether a returned PDF looks exactly like the one sent: both rendered by poppler's pdftoppm,
compared pixel by pixel outside the customer's signature widget (the check that counts when
another tool's signature touches objects pyHanko's diff policy would flag)."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_DPI = 50


_PDFTOPPM_TIMEOUT = 120  # seconds per document


_MASK_MARGIN_PX = 2  # anti-aliasing spills a pixel or so beyond a widget's /Rect


class Refused(Exception):
    """A returned PDF refused: ``code`` names the customer's reason (returned.REASONS)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


Rect = tuple[float, float, float, float]


@dataclass
class Page:
    crop: Rect
    rotate: int
    annots: list[generic.DictionaryObject]


def _as_rect(value: Any) -> Rect | None:
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def pdf_get(node: generic.DictionaryObject, key: str) -> Any:
    """``node[key]`` dereferenced, or None (``dict.get`` would return IndirectObjects)."""
    return node[key] if key in node else None


def pages(reader: PdfFileReader) -> list[Page]:
    pages: list[Page] = []

    def walk(node: generic.DictionaryObject, inherited: dict[str, Any], depth: int) -> None:
        if depth > 64:
            raise Refused("unreadable", "The page tree is too deep.")
        attrs = dict(inherited)
        for key in ("/MediaBox", "/CropBox", "/Rotate"):
            if key in node:
                attrs[key] = node[key]
        if "/Kids" in node:
            for kid in node["/Kids"]:
                walk(kid.get_object(), attrs, depth + 1)
            return
        media = _as_rect(attrs.get("/MediaBox")) or (0.0, 0.0, 612.0, 792.0)
        crop = _as_rect(attrs.get("/CropBox")) or media
        annots = [
            a
            for a in (x.get_object() for x in pdf_get(node, "/Annots") or [])
            if isinstance(a, generic.DictionaryObject)
        ]
        pages.append(Page(crop, int(attrs.get("/Rotate") or 0) % 360, annots))

    walk(reader.root["/Pages"], {}, 0)
    return pages


def _qualified_name(annot: generic.DictionaryObject) -> str:
    parts: list[str] = []
    node: Any = annot
    for _ in range(32):
        if "/T" in node:
            parts.append(str(node["/T"]))
        if "/Parent" not in node:
            break
        node = node["/Parent"]
    return ".".join(reversed(parts))


def widget_masks(reader: PdfFileReader, field_name: str) -> dict[int, list[Rect]]:
    """Page index → the /Rect of each widget of ``field_name`` on that page."""
    masks: dict[int, list[Rect]] = {}
    for index, page in enumerate(pages(reader)):
        for annot in page.annots:
            if pdf_get(annot, "/Subtype") != "/Widget" or _qualified_name(annot) != field_name:
                continue
            rect = _as_rect(pdf_get(annot, "/Rect"))
            if rect is not None and rect[2] > rect[0] and rect[3] > rect[1]:
                masks.setdefault(index, []).append(_to_pixels(rect, page))
    return masks


def _to_pixels(rect: Rect, page: Page) -> Rect:
    """A PDF-space rectangle → (left, top, right, bottom) pixels of the rendered page."""
    s = _DPI / 72.0
    cx0, cy0, cx1, cy1 = page.crop
    x0, y0, x1, y1 = rect
    if page.rotate == 90:
        box = ((y0 - cy0) * s, (x0 - cx0) * s, (y1 - cy0) * s, (x1 - cx0) * s)
    elif page.rotate == 180:
        box = ((cx1 - x1) * s, (y0 - cy0) * s, (cx1 - x0) * s, (y1 - cy0) * s)
    elif page.rotate == 270:
        box = ((cy1 - y1) * s, (cx1 - x1) * s, (cy1 - y0) * s, (cx1 - x0) * s)
    else:
        box = ((x0 - cx0) * s, (cy1 - y1) * s, (x1 - cx0) * s, (cy1 - y0) * s)
    m = _MASK_MARGIN_PX
    return box[0] - m, box[1] - m, box[2] + m, box[3] + m


@dataclass
class _Gray:
    width: int
    height: int
    pixels: bytearray


def _parse_pgm(data: bytes) -> _Gray:
    """A binary (P5) 8-bit PGM as written by ``pdftoppm -gray``."""
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte after maxval
    if tokens[0] != b"P5" or int(tokens[3]) > 255:
        raise ValueError("not an 8-bit binary PGM")
    width, height = int(tokens[1]), int(tokens[2])
    pixels = bytearray(data[pos : pos + width * height])
    if len(pixels) != width * height:
        raise ValueError("truncated PGM")
    return _Gray(width, height, pixels)


def _render(pdf: bytes, workdir: Path, name: str) -> list[_Gray]:
    """Every page of ``pdf`` as an 8-bit gray image (blocking: run it in a thread)."""
    src = workdir / f"{name}.pdf"
    src.write_bytes(pdf)
    proc = subprocess.run(
        ["pdftoppm", "-r", str(_DPI), "-gray", str(src), str(workdir / name)],
        capture_output=True,
        timeout=_PDFTOPPM_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"pdftoppm exited with {proc.returncode}: {stderr}")
    # pdftoppm names pages NAME-1.pgm … or NAME-01.pgm …, padded to the page count's width.
    files = sorted(workdir.glob(f"{name}-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [_parse_pgm(p.read_bytes()) for p in files]


def render_both(sent: bytes, returned: bytes) -> tuple[list[_Gray], list[_Gray]]:
    with tempfile.TemporaryDirectory(prefix="dpabot-returned-") as tmp:
        return _render(sent, Path(tmp), "sent"), _render(returned, Path(tmp), "returned")


def _apply_mask(image: _Gray, boxes: list[Rect]) -> None:
    for left, top, right, bottom in boxes:
        x0, x1 = max(0, int(left)), min(image.width, int(right) + 1)
        y0, y1 = max(0, int(top)), min(image.height, int(bottom) + 1)
        if x0 >= x1:
            continue
        blank = bytes(x1 - x0)
        for y in range(y0, y1):
            row = y * image.width
            image.pixels[row + x0 : row + x1] = blank


async def check_pages(sent: bytes, returned: bytes, masks: dict[int, list[Rect]]) -> None:
    try:
        before, after = await asyncio.to_thread(render_both, sent, returned)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        raise Refused("unreadable", f"The pages could not be rendered: {exc}") from exc
    if not before:
        raise Refused("unreadable", "pdftoppm rendered no page of the sent PDF.")
    if len(before) != len(after):
        raise Refused(
            "pages_changed",
            f"The sent PDF has {len(before)} page(s), the returned one {len(after)}.",
        )
    for index, (a, b) in enumerate(zip(before, after, strict=True)):
        if (a.width, a.height) != (b.width, b.height):
            raise Refused(
                "pages_changed",
                f"Page {index + 1} changed size: {a.width}x{a.height} px sent, "
                f"{b.width}x{b.height} px returned (at {_DPI} dpi).",
            )
        if a.pixels == b.pixels:
            continue
        boxes = masks.get(index, [])
        _apply_mask(a, boxes)
        _apply_mask(b, boxes)
        differing = sum(1 for x, y in zip(a.pixels, b.pixels, strict=True) if x != y)
        if differing:
            raise Refused(
                "pages_changed",
                f"Page {index + 1} looks different outside the signature widget(s): "
                f"{differing} of {a.width * a.height} pixels differ (gray, {_DPI} dpi).",
            )
