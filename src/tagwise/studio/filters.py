"""The document filters of the Data page, read from a query string or a form, and written back into links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tagwise.core.tagging import DocumentFilter
from tagwise.core.validation import CONTROL, class_form

STATUSES = ("untagged", "tagged", "noclass", "kept")
DATASETS = ("Train", "Test", "none")


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""
    label: str = ""
    dataset: str = ""
    mismatch: bool = False
    by: str = ""  # who tagged them in the studio (their key's name): a lead reviews one person's tags

    @classmethod
    def read(cls, params: Mapping[str, Any]) -> Filters:
        status = str(params.get("status") or "").lower()
        dataset = str(params.get("dataset") or "").lower()  # a typed ?dataset=test was ignored: all documents listed
        return cls(
            q=str(params.get("q") or "").strip()[:200],
            status=status if status in STATUSES else "",
            label=class_form(_no_controls(str(params.get("label") or ""))),  # as class names are kept: a decomposed é finds them
            dataset=next((d for d in DATASETS if d.lower() == dataset), ""),
            mismatch=str(params.get("mismatch") or "") in ("1", "on", "true"),
            by=_no_controls(str(params.get("by") or "").strip()[:100]),
        )

    def to_filter(self) -> DocumentFilter:
        return DocumentFilter(search=self.q or None, status=self.status or None, label=self.label or None, dataset=self.dataset or None,
                              tagged_by=self.by or None)

    def params(self) -> dict[str, str]:
        """Non-empty fields, for query strings and hidden form fields."""
        out = {"q": self.q, "status": self.status, "label": self.label, "dataset": self.dataset, "by": self.by,
               "mismatch": "1" if self.mismatch else ""}
        return {k: v for k, v in out.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.params())


def _no_controls(value: str) -> str:
    """A class or tagger filter with its control characters as U+FFFD: no class or key name holds one,
    so it still finds nothing, and PostgreSQL is not sent a NUL (its text holds none: a 500)."""
    return CONTROL.sub("\ufffd", value)
