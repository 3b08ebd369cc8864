"""Answers from a filled PDF form attached to the reply (the draft's Bijlage 1 fields) (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.reader.answers import Answer
from handlers.reader.mime import Attachment
from handlers.reader.model import AnnexField
from templates import read_form_fields


def _is_pdf(a: Attachment) -> bool:
    return (
        a.content_type == "application/pdf"
        or a.filename.lower().endswith(".pdf")
        or a.data[:1024].lstrip().startswith(b"%PDF")
    )


def form_answers(
    attachments: Sequence[Attachment], fields: Sequence[AnnexField]
) -> tuple[list[Answer], list[str]]:
    """Values of the template's fields filled in attached PDF forms, and notes on broken PDFs.

    A value equal to the prefilled proposal is kept as is: returning it confirms the proposal.
    """
    by_id = {f.id: f for f in fields}
    answers: list[Answer] = []
    notes: list[str] = []
    for a in attachments:
        if not _is_pdf(a):
            continue
        try:
            values = read_form_fields(a.data)
        except Exception as exc:  # pikepdf raises many types on damaged files; never fail on one
            notes.append(f"the attachment {a.filename or '(unnamed)'} could not be read: {exc}")
            continue
        for name, value in values.items():
            f = by_id.get(name)
            if f is not None and value.strip():
                answers.append(Answer(f, value.strip(), -1, "form"))
    return answers, notes
