"""Visible signature appearances: a party's words and the signing time, in an embedded font.

The time shown is the one signed into the signature (pyHanko hands the same instant to the
appearance and to the signingTime attribute), in Europe/Brussels and in UTC; a timestamp
token's time cannot be shown, as the appearance is signed before the token exists.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStamp, TextStampStyle

__all__ = ["BRUSSELS", "Stamp", "stamp_style", "time_params"]

BRUSSELS = ZoneInfo("Europe/Brussels")
# pyHanko formats the signing time with this; the style reads it back (microseconds kept).
_ISO = "%Y-%m-%dT%H:%M:%S.%f%z"
_FONT_SIZE = 9
_font_lock = threading.Lock()


@dataclass(frozen=True)
class Stamp:
    """What a party's signature shows: ``text`` with ``{date}``, ``{time_local}`` and
    ``{time_utc}`` filled at signing, drawn in ``font`` (a TrueType file)."""

    text: str
    font: Path


def time_params(signed_at: dt.datetime) -> dict[str, str]:
    """The signing time as the stamp prints it: Belgian date, Brussels and UTC clock times."""
    local = signed_at.astimezone(BRUSSELS)
    utc = signed_at.astimezone(dt.UTC)
    return {
        "date": f"{local:%d/%m/%Y}",
        "time_local": f"{local:%H:%M:%S}",
        "time_utc": f"{utc:%H:%M:%S}",
    }


@functools.cache
def _thousand_upem(font: Path) -> Path:
    """The font rescaled to 1000 units per em, once per process.

    pyHanko 0.38 writes glyph widths in font units instead of 1/1000 em, so a font with
    another unit (Carlito: 2048) draws its letters twice apart and its /W array contradicts
    the embedded font (which PDF/A forbids). Subsetted to Latin first: rescaling all of
    Carlito takes seconds."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    # Carlito's 'created' date is 0: fontTools warns on reading it, for every process.
    head_log = logging.getLogger("fontTools.ttLib.tables._h_e_a_d")
    level = head_log.level
    head_log.setLevel(logging.ERROR)
    try:
        tt = TTFont(str(font))
        tt["head"]  # read now, while the warning is muted
    finally:
        head_log.setLevel(level)
    options = subset.Options()
    options.layout_features = ["kern", "liga"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    # Latin-1, Latin Extended-A/B, general punctuation, the euro sign.
    unicodes = [*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x2010, 0x2060), 0x20AC]
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(tt)
    if tt["head"].unitsPerEm != 1000:
        scale_upem(tt, 1000)
    fd, name = tempfile.mkstemp(prefix="dpabot-stamp-", suffix=".ttf")
    os.close(fd)
    atexit.register(functools.partial(os.unlink, name))
    tt.save(name)
    return Path(name)


class _DpaTextStamp(TextStamp):
    def get_default_text_params(self) -> dict[str, Any]:
        return {}  # no time of its own: only the signing time pyHanko passes


@dataclass(frozen=True)
class _DpaStampStyle(TextStampStyle):
    """A text stamp whose ``{date}``/``{time_…}`` come from the signing time pyHanko passes."""

    template: str = ""

    def create_stamp(
        self, writer: Any, box: layout.BoxConstraints, text_params: dict[str, Any]
    ) -> TextStamp:
        signed_at = dt.datetime.strptime(text_params["ts"], _ISO)
        text = self.template.format(**time_params(signed_at))
        # pyHanko interpolates the text with %: a literal % must be doubled.
        style = _replace_text(self, text.replace("%", "%%"))
        return _DpaTextStamp(writer=writer, style=style, box=box, text_params={})


def _replace_text(style: _DpaStampStyle, text: str) -> TextStampStyle:
    return TextStampStyle(
        text_box_style=style.text_box_style,
        inner_content_layout=style.inner_content_layout,
        stamp_text=text,
        border_width=0,
        background=None,
    )


def stamp_style(stamp: Stamp) -> TextStampStyle:
    """pyHanko's stamp style for ``stamp``: no border, no background, left and top aligned."""
    with _font_lock:
        font = _thousand_upem(stamp.font)
    return _DpaStampStyle(
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(font)), font_size=_FONT_SIZE, leading=_FONT_SIZE + 2
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(left=2, right=2, top=2, bottom=2),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        border_width=0,
        background=None,
        timestamp_format=_ISO,
        template=stamp.text,
    )
