"""``tagwise import`` of every input format, merging several files, --append, all-or-nothing."""

from __future__ import annotations

import csv
import json

from tests.cli.conftest import ok, write_jsonl
from tests.cli.test_errors import one_error_line
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


def test_a_multi_label_csv_is_split_on_bars_as_the_studio_splits_it_and_a_comma_is_refused_until_said(cli, tmp_path):
    # "anger|confusion" became a class of its own (35 of them from one file) and the import said nothing;
    # then it was refused, while the studio split it (and its download joins classes with "|")
    path = tmp_path / "inbox.csv"
    path.write_text("text,labels\nwhy is this broken,anger|confusion\nthanks a lot,gratitude;joy\n", encoding="utf-8")
    ok(cli("import", "inbox", str(path), "--kind", "multi"))
    assets = exported(cli, tmp_path, "inbox")["assets"]
    assert sorted(c["category"] for c in assets["classes"]) == ["anger", "confusion", "gratitude", "joy"]
    path.write_text('text,labels\nwhy is this broken,"anger,confusion"\n', encoding="utf-8")
    refused = cli("import", "inbox", str(path), "--kind", "multi")
    assert refused.exit_code == 2 and "inbox.csv:2: the labels 'anger,confusion' hold ','" in refused.stderr
    assert "--label-separator ','" in refused.stderr
    ok(cli("import", "inbox", str(path), "--label-separator", ","))
    # the ideographic comma a Japanese or Chinese team types made "請求、配送" one class
    path.write_text('text,labels\n請求と配送の問題,"請求、配送"\n', encoding="utf-8")
    refused = cli("import", "inbox", str(path), "--kind", "multi")
    assert refused.exit_code == 2 and "the labels '請求、配送' hold '、'" in refused.stderr and "--label-separator '、'" in refused.stderr


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


def test_a_csv_row_with_more_fields_than_its_header_imports_nothing(cli, tmp_path):
    # "Qué miedo y qué tristeza";fear;sadness;es was stored with classes [fear] and language "sadness"
    path = tmp_path / "extra_field.csv"
    path.write_text('text;labels;language\n"Me alegro";joy;es\n"Qué miedo y qué tristeza";fear;sadness;es\n', encoding="utf-8")
    for separator in ([], ["--label-separator", "|"]):
        message = one_error_line(cli("import", "mlup", str(path), "--kind", "multi", *separator), code=2)
        assert f"{path}:3: 4 fields, but the header has 3 (text, labels, language)" in message
        assert "double quotes" in message and "'labels' field" in message
    assert "could not be found" in one_error_line(cli("project", "show", "mlup"))  # nothing landed, not even the project
    path.write_text('text;labels;language\n"Me alegro";joy;es\n"Qué miedo y qué tristeza";"fear;sadness";es\n', encoding="utf-8")
    ok(cli("import", "mlup", str(path), "--kind", "multi"))
    docs = exported(cli, tmp_path, "mlup")["assets"]["documents"]
    assert [(sorted(c["category"] for c in d["classes"]), d["language"]) for d in docs] == [(["joy"], "es"), (["fear", "sadness"], "es")]


def test_a_csv_row_with_fewer_fields_than_its_header_imports_nothing_but_a_trailing_separator_is_fine(cli, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("text,labels,language\nhello,greeting,en\nbye,en\n", encoding="utf-8")  # bye's label would be 'en'
    message = one_error_line(cli("import", "short", str(path), "--kind", "single"), code=2)
    assert f"{path}:3: 2 fields, but the header has 3 (text, labels, language): give every column a field" in message
    path.write_text("text,labels,language\nhello,greeting,en,\nbye,,,\n", encoding="utf-8")  # empty extra fields shift nothing
    ok(cli("import", "short", str(path), "--kind", "single"))
    assert [d.get("class") for d in exported(cli, tmp_path, "short")["assets"]["documents"]] == [{"category": "greeting"}, None]


def test_a_rows_language_must_be_a_language_code_and_is_spelled_as_usual(cli, tmp_path):
    # any 2-8-letter word was taken ("deutsch", "sadness"); "DE" was kept as typed
    path = tmp_path / "langs.csv"
    path.write_text("text,labels,language\nHallo,greeting,DE\nOlá,greeting,pt_br\n你好,greeting,zh-hans\nHola,greeting,es-419\n"
                    "Hi,greeting,\n", encoding="utf-8")
    ok(cli("import", "langs", str(path), "--kind", "single"))
    docs = exported(cli, tmp_path, "langs")["assets"]["documents"]
    assert [d["language"] for d in docs] == ["de", "pt-BR", "zh-Hans", "es-419", "en"]
    for wrong, where in (("deutsch", "langs.csv:2"), ("english", "langs.csv:2")):
        path.write_text(f"text,labels,language\nHallo,greeting,{wrong}\n", encoding="utf-8")
        message = one_error_line(cli("import", "langs", str(path)), code=2)
        assert f"{where}: the language \"{wrong}\" is not a language code: a language code is 2 or 3 letters" in message
        assert "such as 'en', 'de', 'pt-BR', 'zh-Hans' or 'es-419'" in message
    jsonl = tmp_path / "langs.jsonl"
    jsonl.write_text('{"text": "Hallo", "labels": ["greeting"], "language": "sadness"}\n', encoding="utf-8")
    assert 'langs.jsonl:1: the language "sadness" is not a language code' in one_error_line(cli("import", "langs", str(jsonl)), code=2)
    assert len(exported(cli, tmp_path, "langs")["assets"]["documents"]) == 5
    # the shared datasets' meta.lang (sib200's sentences were all stored in the project's language)
    jsonl.write_text('{"id": "s1", "text": "Hola", "labels": ["greeting"], "meta": {"lang": "es"}}\n', encoding="utf-8")
    ok(cli("import", "langs", str(jsonl), "--append"))
    assert [d["language"] for d in exported(cli, tmp_path, "langs")["assets"]["documents"] if d["location"] == "s1"] == ["es"]


def test_a_rows_error_names_the_line_it_starts_on_after_a_text_of_several_lines(cli, tmp_path):
    # the error said langs.csv:3, the third record, but a quoted text of three lines put the row on line 5
    path = tmp_path / "lines.csv"
    path.write_text('text,labels,language\n"Dear team,\nmy card\nis lost",card,en\nHallo,greeting,sadness\n', encoding="utf-8")
    message = one_error_line(cli("import", "lines", str(path), "--kind", "single"), code=2)
    assert f"{path}:5: the language \"sadness\" is not a language code" in message, message
    path.write_text('text,labels\n"Dear team,\nmy card\nis lost",card\nHallo,greeting\n', encoding="utf-8")
    ok(cli("import", "lines", str(path), "--kind", "single"))
    assert [d["location"] for d in exported(cli, tmp_path, "lines")["assets"]["documents"]] == ["lines-2", "lines-3"]  # ids as before


def test_a_rows_error_names_its_line_after_blank_lines(cli, tmp_path):
    # blank lines, which the reader skips, made the error name the line after the header
    path = tmp_path / "blank.csv"
    path.write_text("text,labels\n\n\nhello,joy,x\n", encoding="utf-8")
    assert f"{path}:4: 3 fields, but the header has 2" in one_error_line(cli("import", "blank", str(path), "--kind", "single"), code=2)


def test_a_file_is_read_with_the_column_names_the_studio_reads(cli, tmp_path):
    # a CSV with a "label" column imported every document untagged (exit 0) while the studio read it tagged
    (tmp_path / "labelled.csv").write_text("filename,content,label,dataset,lang\na.txt,my card,card,train,EN\nb.txt,a refund,refund,test,\n")
    said = ok(cli("import", "p", str(tmp_path / "labelled.csv"), "--kind", "single"))
    assert "imported 2 documents into p (2 classes; 2 tagged: 1 train, 1 test, 0 unassigned; 0 untagged)" in said.stdout
    docs = exported(cli, tmp_path, "p")["assets"]["documents"]
    assert [(d["location"], d["class"]["category"], d["dataset"], d["language"]) for d in docs] == \
        [("a.txt", "card", "Train", "en"), ("b.txt", "refund", "Test", "en")]
    write_jsonl(tmp_path / "labelled.jsonl", [{"location": "c.txt", "text": "hi", "category": "card", "dataset": "test"},
                                              {"Location": "d.txt", "text": "ho", "Classes": [{"category": "refund"}], "label": ""}])
    ok(cli("import", "p", str(tmp_path / "labelled.jsonl")))
    assert [(d["location"], d["class"]["category"], d.get("dataset")) for d in exported(cli, tmp_path, "p")["assets"]["documents"]] == \
        [("c.txt", "card", "Test"), ("d.txt", "refund", None)]  # Azure's {"category"} objects and any case, as the studio reads them

    # no labels at all is legitimate (documents to tag in the studio), and said; a named column that is not there is refused
    (tmp_path / "plain.csv").write_text("text,note\nmy card,x\n")
    untagged = ok(cli("import", "p", str(tmp_path / "plain.csv")))
    assert "no document has labels" in untagged.stderr and "imported 1 document into p (0 classes;" in untagged.stdout
    refused = cli("import", "p", str(tmp_path / "labelled.csv"), "--label-column", "intent")
    assert one_error_line(refused, 2) == (f"error: {tmp_path / 'labelled.csv'}: no column 'intent' (columns: filename, content, label, "
                                       "dataset, lang); pick the labels column with --label-column")


def test_a_spreadsheets_capitalised_header_is_read_as_the_studio_reads_it(cli, tmp_path):
    (tmp_path / "sheet.csv").write_text("ID,Text,Label\nq1,my card,card\n")
    ok(cli("import", "p", str(tmp_path / "sheet.csv"), "--kind", "single"))
    assert [(d["location"], d["class"]["category"]) for d in exported(cli, tmp_path, "p")["assets"]["documents"]] == [("q1", "card")]


def test_two_columns_that_read_as_one_name_are_refused_unless_the_column_is_named(cli, tmp_path):
    # "text" and "Text": import read the first and the studio the last, and neither said so
    path = tmp_path / "twins.csv"
    path.write_text("id,text,Text,label\nt1,short,the full ticket,card\n")
    assert one_error_line(cli("import", "p", str(path), "--kind", "single"), 2) == (
        f"error: {path}:1: the columns 'text' and 'Text' are one column to tagwise (case and spaces aside), so one of them "
        "would not be read; rename or remove one of them (or name the column to read with --text-column / --label-column / "
        "--id-column)")
    ok(cli("import", "p", str(path), "--kind", "single", "--text-column", "Text"))
    assert [d["location"] for d in exported(cli, tmp_path, "p")["assets"]["documents"]] == ["t1"]


def test_a_spreadsheets_emptied_rows_are_skipped_and_an_empty_text_names_its_line(cli, tmp_path):
    # ";;" rows refused the import as "The document 'rows-4' has no text", a document the file never had
    path = tmp_path / "rows.csv"
    path.write_text("id;text;label\r\nt1;my card;card\r\n;;\r\nt3;a refund;refund\r\n;;\r\n", encoding="utf-8-sig")
    assert "imported 2 documents into p" in ok(cli("import", "p", str(path), "--kind", "single")).stdout
    path.write_text("id;text;label\nt1;my card;card\nt2;;card\n", encoding="utf-8")
    assert one_error_line(cli("import", "q", str(path), "--kind", "single"), 2) == \
        f"error: {path}:3: its text is empty; fill it in or remove the row (nothing was imported)"


def test_a_workbook_and_windows_text_are_refused_with_how_to_save_them(cli, tmp_path):
    workbook = tmp_path / "tickets.xlsx"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\xe4")
    assert one_error_line(cli("import", "p", str(workbook)), 2) == (
        f"error: {workbook} is an Excel workbook, which tagwise does not read: save it as CSV (Excel: File > Save As > "
        "\"CSV UTF-8\") and use the .csv file")
    windows = tmp_path / "tickets.csv"
    windows.write_bytes("id;text;label\nt1;Facture de 12 € non reçue;Facturation\n".encode("cp1252"))
    message = one_error_line(cli("import", "p", str(windows), "--kind", "single"), 2)
    assert message.startswith(f"error: {windows}: not UTF-8 text: it looks like Windows-1252 text") and "iconv -f WINDOWS-1252" in message
    # a Hebrew team's Excel CSV (Windows-1255) was called Windows-1252, and its iconv line imported every letter garbled
    hebrew = tmp_path / "he.csv"
    hebrew.write_bytes("text,labels\nהחבילה לא הגיעה,משלוח\nשכחתי את הסיסמה,כניסה\n".encode("cp1255"))
    message = one_error_line(cli("import", "p", str(hebrew), "--kind", "single"), 2)
    assert "Windows-1252" not in message and "a Windows code page for another alphabet (Hebrew 1255, Arabic 1256" in message
    assert "iconv -f WINDOWS-1255 -t UTF-8" in message
    arabic = tmp_path / "ar.csv"
    arabic.write_bytes("text,labels\nلم تصل الشحنة,توصيل\nنسيت كلمة المرور,دخول\n".encode("cp1256"))
    assert "another alphabet" in one_error_line(cli("import", "p", str(arabic), "--kind", "single"), 2)


def test_excels_separator_line_and_a_german_header_are_read_and_lines_keep_their_numbers(cli, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text("sep=;\nid;Text;Kategorie\nt1;Passwort vergessen, bitte;Zugang\n", encoding="utf-8-sig")
    ok(cli("import", "p", str(path), "--kind", "single"))
    assert [(d["location"], d["class"]["category"]) for d in exported(cli, tmp_path, "p")["assets"]["documents"]] == [("t1", "Zugang")]
    path.write_text("sep=;\nid;Text;Kategorie\nt2;a;b;c\n", encoding="utf-8")
    assert one_error_line(cli("import", "p", str(path)), 2).startswith(f"error: {path}:3: 4 fields, but the header has 3")


def test_a_jsonl_class_object_not_in_a_list_is_read_as_the_studio_reads_it(cli, tmp_path):
    # {"class": {"category": ...}}, as one Azure document has it, was refused here and read by the studio
    write_jsonl(tmp_path / "one.jsonl", [{"text": "my card", "class": {"category": "card"}}, {"text": "hi", "labels": ""}])
    ok(cli("import", "p", str(tmp_path / "one.jsonl"), "--kind", "single"))
    assert [d.get("class") for d in exported(cli, tmp_path, "p")["assets"]["documents"]] == [{"category": "card"}, None]
    write_jsonl(tmp_path / "bad.jsonl", [{"text": "my card", "labels": [1]}])
    assert one_error_line(cli("import", "p", str(tmp_path / "bad.jsonl")), 2) == (
        f'error: {tmp_path / "bad.jsonl"}:1: the labels must be a string, or a list of strings or of {{"category": ...}} objects, not [1]')


def test_an_import_counts_the_documents_tagged_with_no_class(cli, tmp_path):
    # 300 of 1,500 feedback texts had no topic: the import said "1,500 tagged", and nothing showed the 300
    path = write_jsonl(tmp_path / "fb.jsonl", [{"text": "great app", "labels": ["praise"]}, {"text": "ok", "labels": []},
                                                {"text": "meh", "labels": []}, {"text": "untagged one"}])
    said = ok(cli("import", "fb", str(path), "--kind", "multi"))
    assert "3 tagged (2 of them with no class): 0 train, 0 test, 3 unassigned; 1 untagged" in said.stdout, said.stdout


def test_a_single_label_document_with_no_class_is_counted_untagged_as_it_is_stored(cli, tmp_path):
    # a probe: "labels": [] in a single-label import printed "2 tagged (1 of them with no class)", though it is stored untagged
    rows = write_jsonl(tmp_path / "t.jsonl", [{"id": "a", "text": "hello there", "labels": []}, {"id": "b", "text": "other", "labels": ["x"]}])
    said = ok(cli("import", "team", str(rows), "--kind", "single")).stdout
    assert "1 tagged: 0 train, 0 test, 1 unassigned; 1 untagged" in said and "no class" not in said
    listed = [json.loads(line) for line in ok(cli("project", "documents", "team", "--json")).stdout.splitlines()]
    assert [d["tagged"] for d in listed] == [False, True]


def test_each_documents_name_comes_from_the_column_id_column_names(cli, tmp_path):
    # a Jira export names its tickets in "Issue key": without a way to say so, they were jira-2, jira-3, ...
    export = tmp_path / "jira.csv"
    export.write_text("Issue key,Summary,Priority\nH-1,It crashes,Major\nH-2,Typo,Minor\n", encoding="utf-8")
    ok(cli("import", "jira", str(export), "--kind", "single", "--text-column", "Summary", "--label-column", "Priority",
           "--id-column", "Issue key"))
    listed = [json.loads(line) for line in ok(cli("project", "documents", "jira", "--json")).stdout.splitlines()]
    assert [(d["location"], d["text"], d["class"]["category"]) for d in listed] == [("H-1", "It crashes", "Major"), ("H-2", "Typo", "Minor")]
    missing = cli("import", "jira", str(export), "--text-column", "Summary", "--id-column", "Key")
    said = one_error_line(missing, 2)
    assert "no column 'Key'" in said and "pick the id column with --id-column" in said


def test_an_azure_project_file_as_microsoft_learn_spells_its_kind(cli, tmp_path):
    # customMultiLabelClassification (Learn's REST pages): the server took it, tagwise import read the file as
    # single-label and refused its first document with two classes
    body = {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
            "metadata": {"projectName": "moods", "projectKind": "customMultiLabelClassification", "language": "en",
                         "storageInputContainerName": "moods"},
            "assets": {"projectKind": "customMultiLabelClassification", "classes": [{"category": "joy"}, {"category": "love"}],
                       "documents": [{"location": "d1", "language": "en", "text": "what a lovely day with you",
                                      "classes": [{"category": "joy"}, {"category": "love"}]},
                                     {"location": "d2", "language": "en", "text": "so happy", "classes": [{"category": "joy"}]}]}}
    path = tmp_path / "moods.json"
    path.write_text(json.dumps(body))
    ok(cli("import", "moods", str(path)))
    assert exported(cli, tmp_path, "moods")["metadata"]["projectKind"] == "CustomMultiLabelClassification"
