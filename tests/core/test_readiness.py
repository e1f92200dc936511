"""The overview: counts and the guidance on whether a project is ready to train.

Every test runs on SQLite and on a real PostgreSQL (``ctx`` in ``tests/core/conftest.py``).
"""

from __future__ import annotations

from tagwise.core import readiness, tagging


def test_guidance_flags_few_examples_and_imbalance(ctx, project):
    tagging.add_documents(ctx, "p", [{"location": f"c{i}", "text": f"card {i}", "labels": ["card"]} for i in range(30)])
    messages = " ".join(t["message"] for t in readiness.overview(ctx, "p")["guidance"])
    assert "Too few examples for: fx (1). Tag at least 10 of each. A class with one example has no test document" in messages
    assert "imbalanced" in messages
