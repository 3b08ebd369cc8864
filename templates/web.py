"""The verification page's HTML (Jinja2, autoescaped) and its words in nl, fr and en:
``templates/web/verify.html.j2`` and ``templates/web/<lang>.toml``."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

__all__ = ["WEB_LANGUAGES", "pick_language", "render_verify_page", "web_texts"]

WEB_DIR = Path(__file__).parent / "web"
WEB_LANGUAGES = ("nl", "fr", "en")


@cache
def web_texts(lang: str) -> dict[str, str]:
    """The page's words in one language (a key missing from a language is a bug: tested)."""
    with (WEB_DIR / f"{lang}.toml").open("rb") as f:
        return tomllib.load(f)


def pick_language(accept_language: str | None, chosen: str | None = None) -> str:
    """The chosen language (``?lang=``) if the page has it, else the browser's first one it
    has (by Accept-Language quality), else English."""
    if chosen in WEB_LANGUAGES:
        return str(chosen)
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in WEB_LANGUAGES and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else "en"


def _when(value: str | None) -> str:
    """An ISO time as the page shows it: 2026-12-05 07:30:02 UTC."""
    if not value:
        return ""
    import datetime as dt

    moment = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(WEB_DIR),
        undefined=StrictUndefined,
        autoescape=True,  # a signer's name comes from an uploaded certificate: escape it all
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def render_verify_page(lang: str, /, **context: Any) -> str:
    """The page: the form, and the result when ``context`` carries one."""
    texts = web_texts(lang)
    others = [(code, web_texts(code)["lang_name"]) for code in WEB_LANGUAGES if code != lang]
    return (
        _env().get_template("verify.html.j2").render(t=texts, lang=lang, others=others, **context)
    )
