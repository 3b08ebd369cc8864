"""A document template's manifest (`manifest.toml`): its fields and examples, loaded and checked."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from templates import registry
from templates.errors import TemplateError

__all__ = ["Example", "FieldSpec", "Manifest", "list_templates", "load_manifest"]


class FieldSpec(BaseModel):
    """One field a template uses: type, required, asked in Bijlage 1 or not, and its words."""

    id: str = ""
    type: Literal["text", "enterprise_number", "email", "date", "phone"] = "text"
    required: bool = False
    annex: bool = False
    number: int | None = None
    labels: dict[str, str]
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    default: str | None = None
    question: dict[str, str] = Field(default_factory=dict)

    def label(self, lang: str) -> str:
        # A template imported from a document may label its own fields in one language only.
        return (
            self.labels.get(lang)
            or self.labels.get("nl")
            or next((v for v in self.labels.values() if v), self.id)
        )


class Example(BaseModel):
    """Example data for one seed the template reproduces, and the fidelity it must reach."""

    data: str  # file name in the template directory
    seed: str  # seed number in shared/seeds, e.g. "000"
    min_ratio: float = 0.97  # matched seed words / seed words (lower for OCR'd seeds)


class Manifest(BaseModel):
    """A document template's manifest (`manifest.toml`)."""

    id: str
    title: str
    language: str = "nl"  # the contract's language (mails follow the customer's language)
    languages: list[str] = Field(default_factory=lambda: ["nl", "fr", "en"])  # labels given in
    examples: list[Example] = Field(default_factory=list)
    # How mails name the annex with the questions, per mail language (lower case, as mid-sentence).
    annex_name: dict[str, str] = Field(default_factory=dict)
    document: str = "dpa.typ"
    tenant: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, FieldSpec]
    _folder: Path = PrivateAttr(default=registry.PACKAGED_DIR)

    @property
    def annex_fields(self) -> list[FieldSpec]:
        """The Bijlage 1 questions in their numbered order."""
        return sorted((f for f in self.fields.values() if f.annex), key=lambda f: f.number or 0)

    @property
    def directory(self) -> Path:
        """The template's folder: in the package, a tenant's folder, or any path."""
        return self._folder

    def defaults(self) -> dict[str, str]:
        """Prefill values (field id → default) for a new contract."""
        return {fid: f.default for fid, f in self.fields.items() if f.default}


def list_templates() -> list[str]:
    """Ids of all document templates shipped, sorted."""
    return registry.packaged_ids()


@cache
def load_manifest(template_id: str) -> Manifest:
    """Load and check a template's manifest, by id or by folder path (cached)."""
    folder = registry.resolve(template_id)
    path = folder / "manifest.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for fid, spec in raw.get("fields", {}).items():
            spec["id"] = fid
        manifest = Manifest.model_validate(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise TemplateError(f"The manifest of template '{template_id}' is invalid: {exc}.") from exc
    if not registry.is_id(manifest.id) or (
        registry.is_id(template_id) and manifest.id != template_id
    ):
        raise TemplateError(
            f"The manifest of template '{template_id}' names the id '{manifest.id}'; "
            f"it must be its folder's name."
        )
    manifest._folder = folder
    numbers = [f.number for f in manifest.annex_fields]
    if numbers != list(range(1, len(numbers) + 1)):
        raise TemplateError(
            f"The annex fields of template '{template_id}' must be numbered 1 to "
            f"{len(numbers)}, not {numbers}."
        )
    return manifest
