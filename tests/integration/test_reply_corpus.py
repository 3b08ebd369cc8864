"""The reply corpus: real client mails (tests/corpus/replies) read by handlers.reader.read_reply.

Each NNN-*.eml has a NNN-*.json with what a careful human reads in it. Field accuracy is
correctly read expected fields / (expected fields + fields read that were not expected); the
acceptance, decline, auto-reply and bounce flags and the change-request articles must match per
mail. Run with -s to see the table; it is also in the failure message.
Rebuild the corpus with `python tests/corpus/make_corpus.py`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "replies"
MIN_FIELD_ACCURACY = 0.95
FLAGS = ("accept", "decline", "auto_reply", "bounce")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.eml"))


def load_case(eml: Path) -> dict[str, Any]:
    return json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ comparing values


def _words(value: str) -> list[str]:
    """A value as the customer meant it: its words, whatever the line breaks, bullets, case."""
    s = unicodedata.normalize("NFKC", str(value)).casefold()
    s = s.replace("\u2019", "'").replace("\u2018", "'")
    return re.findall(r"\w+", s)


def _phone(value: str) -> str | None:
    try:
        import phonenumbers

        num = phonenumbers.parse(value, "BE")
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    except Exception:
        return re.sub(r"\D", "", value) or None


def same_value(kind: str, got: Any, want: str) -> bool:
    if not isinstance(got, str):
        return False
    if kind == "phone":
        return _phone(got) == _phone(want)
    if kind == "email":
        return got.strip().casefold() == want.strip().casefold()
    if kind == "enterprise_number":
        return re.sub(r"\D", "", got) == re.sub(r"\D", "", want)
    return _words(got) == _words(want)


def field_types(template: str) -> dict[str, str]:
    from templates import load_manifest

    return {fid: spec.type for fid, spec in load_manifest(template).fields.items()}


# ------------------------------------------------------------------ scoring


@dataclass
class Score:
    mails: int = 0
    expected: int = 0
    correct: int = 0
    false: int = 0
    flag_errors: int = 0
    cr_errors: int = 0
    q_right: int = 0

    @property
    def accuracy(self) -> float:
        denom = self.expected + self.false
        return self.correct / denom if denom else 1.0

    def add(self, other: Score) -> None:
        for k in ("mails", "expected", "correct", "false", "flag_errors", "cr_errors", "q_right"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Outcome:
    name: str
    case: dict[str, Any]
    score: Score = field(default_factory=Score)
    problems: list[str] = field(default_factory=list)
    flag_problems: list[str] = field(default_factory=list)
    cr_problems: list[str] = field(default_factory=list)


def judge(eml: Path, read_reply: Any) -> Outcome:
    case = load_case(eml)
    out = Outcome(eml.name, case)
    exp = case["expected"]
    s = out.score
    s.mails = 1
    s.expected = len(exp["fields"])
    try:
        got = read_reply(eml.read_bytes(), case["template"], known=case.get("known")).as_json()
    except Exception as exc:  # a crash reads nothing: every expectation fails
        out.problems.append(f"read_reply raised {type(exc).__name__}: {exc}")
        out.flag_problems.append("crashed")
        s.flag_errors = 1
        return out
    types = field_types(case["template"])
    read = got.get("fields") or {}
    alternatives = case.get("also_accept", {})
    for fid, want in exp["fields"].items():
        value = read.get(fid)
        wants = [want, *alternatives.get(fid, [])]
        if any(same_value(types.get(fid, "text"), value, w) for w in wants):
            s.correct += 1
        elif value is None:
            why = (got.get("invalid") or {}).get(fid)
            out.problems.append(
                f"{fid}: not read" + (f" (invalid: {why})" if why else "") + f"; want {want[:70]!r}"
            )
        else:
            out.problems.append(f"{fid}: read {str(value)[:70]!r}; want {want[:70]!r}")
    for fid in sorted(set(read) - set(exp["fields"])):
        s.false += 1
        out.problems.append(f"{fid}: read {str(read[fid])[:70]!r} but the mail does not answer it")
    for flag in FLAGS:
        if bool(got.get(flag, False)) != bool(exp[flag]):
            out.flag_problems.append(f"{flag}={bool(got.get(flag, False))}, want {exp[flag]}")
    s.flag_errors = 1 if out.flag_problems else 0
    want_cr = sorted(str(c["article"]).strip() for c in exp["change_requests"])
    got_cr = sorted(
        str(c.get("article") or "").strip().rstrip(".") for c in (got.get("change_requests") or [])
    )
    if want_cr != got_cr:
        out.cr_problems.append(f"change request articles {got_cr}, want {want_cr}")
        s.cr_errors = 1
    if len(got.get("questions") or []) == exp["questions"]:
        s.q_right = 1
    return out


def table(outcomes: list[Outcome]) -> str:
    lines = []
    for key in ("client", "language", "template"):
        groups: dict[str, Score] = defaultdict(Score)
        for o in outcomes:
            groups[o.case[key]].add(o.score)
        lines.append(
            f"{key:<20} {'mails':>5} {'fields':>6} {'right':>5} {'false':>5} {'acc':>6} "
            f"{'flags✗':>6} {'CR✗':>4} {'Q ok':>5}"
        )
        for name, sc in sorted(groups.items()):
            lines.append(
                f"  {name:<18} {sc.mails:>5} {sc.expected:>6} {sc.correct:>5} {sc.false:>5} "
                f"{sc.accuracy:>6.1%} {sc.flag_errors:>6} {sc.cr_errors:>4} {sc.q_right:>5}"
            )
        lines.append("")
    total = Score()
    for o in outcomes:
        total.add(o.score)
    lines.append(
        f"OVERALL: {total.mails} mails, field accuracy {total.accuracy:.1%} "
        f"({total.correct} right of {total.expected} expected, {total.false} false), "
        f"flag mismatches in {total.flag_errors} mails, change-request mismatches in "
        f"{total.cr_errors} mails, question count right in {total.q_right}/{total.mails}"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------ tests


CORPUS_REPORT = pytest.StashKey[list[str]]()


def test_corpus_is_complete() -> None:
    """The corpus itself: enough mails, each with its expectation, all three languages."""
    files = corpus_files()
    assert len(files) >= 60, f"only {len(files)} mails in {CORPUS}; run tests/corpus/make_corpus.py"
    langs: dict[str, int] = defaultdict(int)
    for eml in files:
        case = load_case(eml)
        langs[case["language"]] += 1
        assert set(case["expected"]) >= {"fields", *FLAGS, "change_requests", "questions"}, eml.name
    assert all(langs[lang] >= 15 for lang in ("nl", "fr", "en")), dict(langs)


def test_reply_corpus(request: pytest.FixtureRequest) -> None:
    try:
        from handlers.reader.reader import read_reply
    except ImportError as exc:
        pytest.fail(
            "handlers.reader.read_reply is not available yet "
            f"({type(exc).__name__}: {exc}); the reply corpus needs "
            "read_reply(raw: bytes, template_id: str, known: dict | None) -> Interpretation.",
            pytrace=False,
        )
    outcomes = [judge(eml, read_reply) for eml in corpus_files()]
    report = table(outcomes)
    details = []
    for o in outcomes:
        if o.problems or o.flag_problems or o.cr_problems:
            details.append(f"{o.name}:")
            details.extend(f"    {p}" for p in o.flag_problems + o.cr_problems + o.problems)
    print("\n" + report + "\n\n" + "\n".join(details))
    # Shown in every run's terminal summary (CI too), not only with -s.
    request.config.stash.setdefault(CORPUS_REPORT, []).append(report)
    total = Score()
    for o in outcomes:
        total.add(o.score)
    failing_flags = [
        o.name + ": " + "; ".join(o.flag_problems) for o in outcomes if o.flag_problems
    ]
    failing_cr = [o.name + ": " + "; ".join(o.cr_problems) for o in outcomes if o.cr_problems]
    msg = [report]
    if total.accuracy < MIN_FIELD_ACCURACY:
        msg.append(f"Field accuracy {total.accuracy:.1%} is below {MIN_FIELD_ACCURACY:.0%}.")
    if failing_flags:
        msg.append("Flag mismatches:\n  " + "\n  ".join(failing_flags))
    if failing_cr:
        msg.append("Change-request mismatches:\n  " + "\n  ".join(failing_cr))
    assert total.accuracy >= MIN_FIELD_ACCURACY and not failing_flags and not failing_cr, (
        "\n\n".join(msg) + "\n\nField details:\n" + "\n".join(details)
    )
