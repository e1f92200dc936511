"""Out-of-scope input: a class named "None" and the confidence threshold both answer "None"."""

from __future__ import annotations

import pytest

from tests.api.conftest import CLASSIFY, PATCH, SINGLE, A, V, create_and_import, deploy, train
from tests.conftest import read_jsonl, take_per_class


@pytest.fixture(scope="module")
def clinc(datasets) -> dict[str, list[dict]]:
    folder = datasets / "clinc150"
    train_rows = take_per_class(read_jsonl(folder / "train.jsonl"), 8, 40)
    intents = {r["labels"][0] for r in train_rows}
    return {
        "train": train_rows,
        "oos_train": [dict(r, labels=["None"]) for r in read_jsonl(folder / "oos_train.jsonl")],
        "test": [r for r in read_jsonl(folder / "test.jsonl") if r["labels"][0] in intents],
        "oos_test": read_jsonl(folder / "oos_test.jsonl")[:200],
    }


def classes_of(client, texts: list[str]) -> list[str]:
    docs = [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    response = client.post(CLASSIFY.format(p="intents", d="prod"), json={"documents": docs})
    assert response.status_code == 200, response.text
    return [d["class"][0]["category"] for d in response.json()["documents"]]


def test_examples_tagged_none_teach_the_model_what_is_out_of_scope(client, clinc):
    create_and_import(client, "intents", SINGLE, clinc["train"] + clinc["oos_train"])
    assert train(client, "intents")["status"] == "succeeded"
    deploy(client, "intents", "prod", "m1")

    in_scope = classes_of(client, [r["text"] for r in clinc["test"]])
    accuracy = sum(p == r["labels"][0] for p, r in zip(in_scope, clinc["test"], strict=True)) / len(in_scope)
    caught = classes_of(client, [r["text"] for r in clinc["oos_test"]]).count("None") / len(clinc["oos_test"])
    assert accuracy > 0.85 and caught > 0.7, (accuracy, caught)

    # a confidence threshold catches more, still as "None", at some cost in scope
    patched = client.patch(f"{A}/intents", params=V, json={"settings": {"confidenceThreshold": 0.6}}, headers=PATCH)
    assert patched.status_code == 200
    in_scope_thr = classes_of(client, [r["text"] for r in clinc["test"]])
    caught_thr = classes_of(client, [r["text"] for r in clinc["oos_test"]]).count("None") / len(clinc["oos_test"])
    assert caught_thr > caught and set(in_scope_thr) <= set(in_scope) | {"None"}
