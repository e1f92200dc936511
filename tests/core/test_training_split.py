"""The percentage split is stratified, seeded and uses only tagged documents."""

from __future__ import annotations

import pytest

from tagwise.core.training import parse_options, split
from tagwise.errors import InvalidArgument

PERCENT = {"kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20}


def docs(n_per_class: dict[str, int]) -> list[dict]:
    out = []
    for label, n in n_per_class.items():
        out += [{"location": f"{label}{i}", "labels": [label], "dataset": None} for i in range(n)]
    return out


def test_each_class_keeps_its_share():
    train, test = split(docs({"a": 50, "b": 10, "c": 2}), "CustomSingleLabelClassification", PERCENT)
    count = lambda rows, label: sum(r["labels"][0] == label for r in rows)
    assert (count(test, "a"), count(test, "b"), count(test, "c")) == (10, 2, 1)
    assert count(train, "c") == 1  # a class is never emptied out of the training set


def test_split_is_reproducible_and_ignores_untagged():
    rows = docs({"a": 30, "b": 30}) + [{"location": "u", "labels": None, "dataset": None}]
    first = split(rows, "CustomSingleLabelClassification", PERCENT)
    second = split(list(reversed(rows)), "CustomSingleLabelClassification", PERCENT)
    assert [r["location"] for r in first[1]] == [r["location"] for r in second[1]]
    assert all(r["location"] != "u" for r in first[0] + first[1])


def test_manual_split_follows_the_dataset_field():
    rows = [{"location": "1", "labels": ["a"], "dataset": "Train"}, {"location": "2", "labels": ["a"], "dataset": "Test"},
            {"location": "3", "labels": [], "dataset": None}]
    train, test = split(rows, "CustomMultiLabelClassification", {"kind": "manual"})
    assert [r["location"] for r in test] == ["2"]
    assert [r["location"] for r in train] == ["1", "3"]  # multi-label: no label is valid training data


def test_the_split_and_its_order_do_not_depend_on_import_order_or_class_order():
    # the model's folds follow the row order: the same documents must give the same rows
    rows = [{"location": f"d{i:02}", "labels": [["x", "y"], ["y"], ["y", "x"], []][i % 4], "dataset": "Test" if i % 5 == 0 else None}
            for i in range(40)]
    reordered = [dict(r, labels=r["labels"][::-1]) for r in reversed(rows)]
    for options in (PERCENT, {"kind": "manual"}):
        first = split(rows, "CustomMultiLabelClassification", options)
        second = split(reordered, "CustomMultiLabelClassification", options)
        assert [[r["location"] for r in part] for part in first] == [[r["location"] for r in part] for part in second]


def test_either_split_percentage_alone_is_enough():
    for given, expected in (({"testingSplitPercentage": 30}, (70, 30)), ({"trainingSplitPercentage": 90}, (90, 10)), ({}, (80, 20))):
        options = parse_options({"modelLabel": "m", "evaluationOptions": {"kind": "percentage", **given}})["evaluationOptions"]
        assert (options["trainingSplitPercentage"], options["testingSplitPercentage"]) == expected


def test_split_options_as_other_writers_send_them():
    # 80.0 (a float, as some JSON writers put every number) was "must be whole numbers"; "Percentage" was unknown
    options = parse_options({"modelLabel": "m", "evaluationOptions": {"kind": "Percentage", "trainingSplitPercentage": 80.0,
                                                                      "testingSplitPercentage": 20.0}})["evaluationOptions"]
    assert options == PERCENT and type(options["trainingSplitPercentage"]) is int
    assert parse_options({"modelLabel": "m", "evaluationOptions": {"kind": "MANUAL"}})["evaluationOptions"] == {"kind": "manual"}
    with pytest.raises(InvalidArgument, match=r"numbers, not strings: send 80 without quotes, not \"80\""):
        parse_options({"modelLabel": "m", "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": "80"}})
    with pytest.raises(InvalidArgument, match="whole numbers"):
        parse_options({"modelLabel": "m", "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": 80.5}})


def test_a_rare_class_that_always_comes_with_a_common_one_gets_test_documents():
    # urgent (3 documents, always with card) was stratified under card and could get no test document
    rows = ([{"location": f"c{i:02}", "labels": ["card"], "dataset": None} for i in range(20)]
            + [{"location": f"u{i}", "labels": ["card", "urgent"], "dataset": None} for i in range(3)]
            + [{"location": f"b{i:02}", "labels": ["billing"], "dataset": None} for i in range(20)])
    train, test = split(rows, "CustomMultiLabelClassification", PERCENT)
    count = lambda part: sum("urgent" in r["labels"] for r in part)
    assert (count(train), count(test)) == (2, 1)
    assert sum("card" in r["labels"] for r in test) == 5  # 4 of card alone, 1 with urgent
