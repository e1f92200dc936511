"""Small deterministic corpora for the ml tests (no network, no shared datasets needed)."""

from __future__ import annotations

import random

import pytest

_TOPICS = {
    "card_lost": (["lost", "misplaced", "can't find", "lost track of"], ["my card", "the debit card", "my visa card"]),
    "transfer": (["send", "transfer", "wire", "move"], ["money to my friend", "funds abroad", "cash to savings"]),
    "balance": (["check", "see", "show me", "what is"], ["my balance", "the account balance", "how much I have"]),
    "pin": (["change", "reset", "forgot", "update"], ["my pin", "the pin code", "pin number"]),
}
_FILLERS = ["please", "asap", "today", "thanks", "hi,", "hello", "quickly", ""]


def _sentence(rng: random.Random, topic: str) -> str:
    verbs, objects = _TOPICS[topic]
    return " ".join(w for w in (rng.choice(_FILLERS), "I want to", rng.choice(verbs), rng.choice(objects),
                                rng.choice(_FILLERS)) if w)


@pytest.fixture(scope="session")
def single_label_data() -> tuple[list[str], list[str]]:
    rng = random.Random(7)
    texts, labels = [], []
    for i in range(160):
        topic = sorted(_TOPICS)[i % len(_TOPICS)]
        texts.append(_sentence(rng, topic))
        labels.append(topic)
    return texts, labels


@pytest.fixture(scope="session")
def multi_label_data() -> tuple[list[str], list[list[str]]]:
    rng = random.Random(11)
    topics = sorted(_TOPICS)
    texts, labels = [], []
    for i in range(200):
        chosen = sorted(rng.sample(topics, k=1 + (i % 3 == 0)))
        if i % 10 == 0:  # documents with no label are valid training data
            chosen = []
            texts.append(" ".join(rng.choice(_FILLERS) or "ok" for _ in range(4)))
        else:
            texts.append(" and ".join(_sentence(rng, t) for t in chosen))
        labels.append(chosen)
    return texts, labels
