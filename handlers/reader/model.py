"""What the reader knows of a template's questions and what it reports about a reply (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from templates import load_manifest


@dataclass(frozen=True)
class AnnexField:
    """What the reader needs to know of one question of the invitation (or one party field)."""

    id: str
    number: int
    labels: tuple[str, ...]
    default: str = ""
    type: str = "text"
    required: bool = True
    # Party fields (name, enterprise number…) are read only when named by their label.
    annex: bool = True
    # The question sentences of the invitation, in every language: they mark quoted questions.
    questions: tuple[str, ...] = ()


@dataclass
class Interpretation:
    """The reading of one reply; as_json() is the `parse-reply --json` object of DESIGN.md."""

    fields: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)
    accept: bool = False
    decline: bool = False
    change_requests: list[dict[str, str | None]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    auto_reply: bool = False
    bounce: bool = False
    language: str = "nl"
    notes: list[str] = field(default_factory=list)
    # Read with too little confidence to fill in (a label that only looks like one): asked
    # back to the customer ("Bedoelde u …?"), never stored as their answer.
    uncertain: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "fields": self.fields,
            "missing": self.missing,
            "invalid": self.invalid,
            "accept": self.accept,
            "decline": self.decline,
            "change_requests": self.change_requests,
            "questions": self.questions,
            "auto_reply": self.auto_reply,
            "bounce": self.bounce,
            "language": self.language,
            "uncertain": self.uncertain,
        }


def template_fields(template_id: str) -> list[AnnexField]:
    """Every field of a template: the numbered annex questions first, then the party fields."""
    manifest = load_manifest(template_id)
    out: list[AnnexField] = []
    for spec in sorted(manifest.fields.values(), key=lambda f: (not f.annex, f.number or 0)):
        labels = [*spec.labels.values()]
        for aliases in spec.aliases.values():
            labels.extend(aliases)
        out.append(
            AnnexField(
                id=spec.id,
                number=int(spec.number or 0) if spec.annex else 0,
                labels=tuple(dict.fromkeys(labels)),
                default=spec.default or "",
                type=spec.type,
                required=spec.required,
                annex=spec.annex,
                questions=tuple(spec.question.values()),
            )
        )
    return out
