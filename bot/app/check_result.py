"""One line of `dpabot tenant check`: what was checked, ok or not, and the sentence to act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    @classmethod
    def passed(cls, name: str, detail: str = "") -> Check:
        return cls(name, True, detail)

    @classmethod
    def failed(cls, name: str, detail: str) -> Check:
        return cls(name, False, detail)

    def line(self) -> str:
        said = f": {self.detail}" if self.detail else ""
        return f"{'ok' if self.ok else 'FAILED':<7}{self.name}{said}"

    def to_dict(self) -> dict[str, object]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}
