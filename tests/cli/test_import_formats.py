"""``tagwise import`` of every input format, merging several files, --append, all-or-nothing."""

from __future__ import annotations

import csv
import json

from tests.cli.conftest import ok, write_jsonl
from tests.conftest import read_jsonl


def exported(cli, tmp_path, name: str) -> dict:
    path = tmp_path / f"{name}-export.json"
    ok(cli("export", name, "-o", str(path)))
    return json.loads(path.read_text())


def test_several_files_are_one_import(cli, bank, tmp_path):
    ok(cli("project", "create", "bank", "--kind", "single"))
    ok(cli("import", "bank", str(bank.path("train.jsonl")), str(bank.path("test.jsonl"))))
    docs = exported(cli, tmp_path, "bank")["assets"]["documents"]
    assert len(docs) == len(bank.train) + len(bank.test)
    assert {d["location"] for d in docs} == {r["id"] for r in bank.train + bank.test}
    # Without --append an import replaces the documents (Azure semantics).
    ok(cli("import", "bank", str(bank.path("test.jsonl"))))
    assert len(exported(cli, tmp_path, "bank")["assets"]["documents"]) == len(bank.test)


def test_csv_multi_label_with_separator_and_columns(cli, datasets, tmp_path):
    all_rows = read_jsonl(datasets / "goemotions" / "train.jsonl")
    rows = [r for r in all_rows if len(r["labels"]) > 1][:30] + [r for r in all_rows if len(r["labels"]) == 1][:30]
    path = tmp_path / "emotions.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "comment", "emotions"])
        for r in rows:
            writer.writerow([r["id"], r["text"], "|".join(r["labels"])])
    ok(cli("import", "emo", str(path), "--kind", "multi",
           "--text-column", "comment", "--label-column", "emotions", "--label-separator", "|"))
    body = exported(cli, tmp_path, "emo")
    assert body["metadata"]["projectKind"] == "CustomMultiLabelClassification"
    by_location = {d["location"]: d for d in body["assets"]["documents"]}
    for r in rows:
        assert sorted(c["category"] for c in by_location[r["id"]]["classes"]) == sorted(r["labels"])


def test_txt_folder_subfolders_are_classes(cli, bank, tmp_path):
    folder = tmp_path / "texts"
    for r in bank.train[:30]:
        target = folder / r["labels"][0]
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{r['id']}.txt").write_text(r["text"], encoding="utf-8")
    (folder / "untagged.txt").write_text("where is my card?", encoding="utf-8")
    ok(cli("import", "folder", str(folder), "--kind", "single"))
    docs = exported(cli, tmp_path, "folder")["assets"]["documents"]
    assert len(docs) == 31
    tagged = {d["location"]: d["class"]["category"] for d in docs if "class" in d}
    assert tagged[f"{bank.train[0]['labels'][0]}__{bank.train[0]['id']}.txt"] == bank.train[0]["labels"][0]


def test_append_keeps_existing_and_replaces_same_location(cli, bank, tmp_path):
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single", "--split", "train"))
    changed = dict(bank.train[0], text="changed text")
    new = {"id": "new-1", "text": "brand new", "labels": bank.train[0]["labels"], "split": "test"}
    extra = write_jsonl(tmp_path / "extra.jsonl", [changed, new])
    said = ok(cli("import", "bank", str(extra), "--append")).stdout
    assert said.startswith(f"imported 2 documents into bank (it now holds {len(bank.train) + 1:,} documents and "
                           f"{len(bank.classes)} classes; of these 2: 2 tagged: 0 train, 1 test, 1 unassigned")  # the total, then what was added
    docs = {d["location"]: d for d in exported(cli, tmp_path, "bank")["assets"]["documents"]}
    assert len(docs) == len(bank.train) + 1
    assert docs[changed["id"]]["text"] == "changed text"
    assert docs["new-1"]["dataset"] == "Test" and docs[bank.train[1]["id"]]["dataset"] == "Train"


def test_a_bad_document_imports_nothing(cli, bank, tmp_path):
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    two_labels = [{"id": "a", "text": "fine", "labels": ["x"]}, {"id": "b", "text": "two", "labels": ["x", "y"]}]
    bad = write_jsonl(tmp_path / "bad.jsonl", two_labels)
    result = cli("import", "bank", str(bank.path("test.jsonl")), str(bad), "--append")
    assert result.exit_code == 1 and "single-label" in result.stderr
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"id": "c", "text": "   ", "labels": ["x"]}])
    assert cli("import", "bank", str(empty), "--append").exit_code == 1
    assert len(exported(cli, tmp_path, "bank")["assets"]["documents"]) == len(bank.train)


def test_a_tsv_is_read_as_pandas_and_spreadsheets_write_it(cli, tmp_path):
    # quoted fields (an inner quote doubled, a newline inside) are one document each; reading TSV with no
    # quoting at all split them into wrong documents without a word
    texts = ['He said "hello" to me', "line one\nline two", "plain text"]
    path = tmp_path / "pandas.tsv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["text", "labels"])
        writer.writerows(zip(texts, "aba", strict=True))
    ok(cli("import", "q", str(path), "--kind", "single"))
    assert sorted(d["text"] for d in exported(cli, tmp_path, "q")["assets"]["documents"]) == sorted(texts)
    raw = tmp_path / "raw.tsv"  # a raw export whose text starts with a quote: refused with its line, not misread
    raw.write_text('text\tlabels\nplain\ta\n"Zitat" am Anfang\tb\n')
    result = cli("import", "r", str(raw), "--kind", "single")
    assert result.exit_code == 2 and f"{raw}:3:" in result.stderr


def test_a_class_spelled_with_two_accent_encodings_imports_as_one(cli, tmp_path):
    composed, decomposed = "caf\u00e9", "cafe\u0301"  # both show as "café"
    path = tmp_path / "drinks.csv"
    path.write_text(f"text,labels\nan espresso,{composed}\na latte,{decomposed}\nsome tea,tea\n", encoding="utf-8")
    ok(cli("import", "drinks", str(path), "--kind", "single"))
    assets = exported(cli, tmp_path, "drinks")["assets"]
    assert [c["category"] for c in assets["classes"]] == [composed, "tea"]
    assert [d["class"]["category"] for d in assets["documents"]] == [composed, composed, "tea"]


def test_a_multi_label_csv_split_another_way_is_refused_until_the_separator_is_said(cli, tmp_path):
    # "anger|confusion" became a class of its own (35 of them from one file) and the import said nothing
    path = tmp_path / "inbox.csv"
    path.write_text("text,labels\nwhy is this broken,anger|confusion\nthanks a lot,gratitude\n", encoding="utf-8")
    refused = cli("import", "inbox", str(path), "--kind", "multi")
    assert refused.exit_code == 2 and "inbox.csv:2: the labels 'anger|confusion' hold '|'" in refused.stderr
    assert "--label-separator '|'" in refused.stderr
    ok(cli("import", "inbox", str(path), "--kind", "multi", "--label-separator", "|"))
    assets = exported(cli, tmp_path, "inbox")["assets"]
    assert sorted(c["category"] for c in assets["classes"]) == ["anger", "confusion", "gratitude"]


def test_a_spreadsheets_semicolon_csv_is_read_as_the_studio_reads_it(cli, tmp_path):
    # Excel in a German, French or Spanish locale saves CSV with ';' (its decimal mark is the comma):
    # the import said "no column 'text' (columns: text;labels)"
    path = tmp_path / "tickets.csv"
    path.write_text('text;labels\nRückerstattung von 12,50 € fehlt;billing\n"Passwort; vergessen";account\n'
                    'Die App stürzt ab, bitte helfen;bug\n', encoding="utf-8")
    ok(cli("import", "tickets", str(path), "--kind", "single", "--language", "de"))
    docs = exported(cli, tmp_path, "tickets")["assets"]["documents"]
    assert {d["text"]: d["class"]["category"] for d in docs} == {
        "Rückerstattung von 12,50 € fehlt": "billing", "Passwort; vergessen": "account",
        "Die App stürzt ab, bitte helfen": "bug"}
    multi = tmp_path / "multi.csv"  # several labels in one quoted cell, split on ';' as in a comma CSV
    multi.write_text('text;labels\nGeld fehlt, dringend;"billing;urgent"\nNur eine Frage;\n', encoding="utf-8")
    ok(cli("import", "multi", str(multi), "--kind", "multi"))
    docs = exported(cli, tmp_path, "multi")["assets"]["documents"]
    assert {d["text"]: sorted(c["category"] for c in d.get("classes", [])) for d in docs} == {
        "Geld fehlt, dringend": ["billing", "urgent"], "Nur eine Frage": []}
