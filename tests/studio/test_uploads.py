"""Reading uploaded .txt, CSV and JSONL files into documents."""

from __future__ import annotations

import re

import pytest

from tagwise.errors import InvalidRequest
from tagwise.studio.uploads import Columns, parse, parse_file


def test_txt_is_one_document_named_by_the_file():
    assert parse("C:\\Users\\me\\note.txt", "\ufeff  Hello there \n".encode()) == [{"location": "note.txt", "text": "Hello there"}]


def test_csv_with_labels_location_and_dataset():
    data = b"ID,Text,Labels,Split\n1,\"card, lost\",card|lost,Train\n2,hello,,\n"
    assert parse("x.csv", data, multi=True) == [
        {"text": "card, lost", "location": "1", "labels": ["card", "lost"], "dataset": "Train", "language": None},
        {"text": "hello", "location": "2", "labels": None, "dataset": None, "language": None},
    ]
    # ';' as tagwise import and tagwise classify write it: "anger;joy" was one class named so
    assert parse("y.csv", b"text,labels\nugh,anger;joy\n", multi=True)[0]["labels"] == ["anger", "joy"]
    # a single-label project takes the cell whole, as tagwise import does ("Billing | Refunds" was two classes, refused)
    assert parse("z.csv", b"text,labels\nugh,Billing | Refunds\n")[0]["labels"] == ["Billing | Refunds"]


def test_jsonl_in_the_shared_datasets_format_and_azure_classes():
    data = b'{"id": "a", "text": "t1", "labels": ["x"]}\n\n{"text": "t2", "classes": [{"category": "y"}], "dataset": "Test"}\n'
    assert parse("d.jsonl", data) == [
        {"text": "t1", "location": "a", "labels": ["x"], "dataset": None, "language": None},
        {"text": "t2", "location": None, "labels": ["y"], "dataset": "Test", "language": None},
    ]


def test_each_documents_language_and_a_spreadsheets_semicolons_are_read():
    # a German, French or Spanish Excel saves CSV with ';': the upload said "no text"; and every
    # document's language was dropped for the project's, so an "en" project of tickets in three
    # languages trained the English encoder (70.9% instead of 86.1%)
    data = "id;text;label;language\n1;Wo ist meine Rückerstattung?;Erstattung;de\n2;¿Dónde está mi pedido?;Pedido;es\n".encode()
    assert parse("tickets.csv", data) == [
        {"text": "Wo ist meine Rückerstattung?", "location": "1", "labels": ["Erstattung"], "dataset": None, "language": "de"},
        {"text": "¿Dónde está mi pedido?", "location": "2", "labels": ["Pedido"], "dataset": None, "language": "es"},
    ]
    assert parse("t.jsonl", b'{"text": "Bonjour", "lang": "fr"}\n')[0]["language"] == "fr"
    # the shared datasets keep it in meta.lang: sib200 uploaded "as is" stored every sentence in the project's language
    line = b'{"id": "sib200-de-0431", "text": "Die T\xc3\xbcrkei", "labels": ["geography"], "meta": {"lang": "de", "index_id": 431}}\n'
    assert parse("sib.jsonl", line)[0]["language"] == "de"
    # a meta's "language" that is no language code is somebody else's field: not read (it refused the whole file)
    assert parse("code.jsonl", b'{"text": "def f(): pass", "meta": {"language": "python"}}\n')[0]["language"] is None


@pytest.mark.parametrize("name, data, message", [
    ("a.csv", b"label\nx\n", "a.csv, line 1: the header has no text column"),
    # a pipe-separated file was blamed on line 2 ("no text"): its header is one column
    ("p.csv", b"id|text|label\n1|hi|joy\n", "p.csv, line 1: the header has no text column .its columns, split on ',': 'id|text|label'"),
    ("a.jsonl", b'{"text": "ok"}\nnot json\n', "line 2"),
    # it said "(Invalid control character at)": the line's end, inside a string never closed
    ("a.jsonl", b'{"text": "ok"}\n{"text": "no end\n', "a.jsonl, line 2: not JSON .the string that starts at column 10 is never closed"),
    ("a.jsonl", b'["list"]\n', "JSON object"),
    ("a.pdf", b"%PDF", "a.pdf is a PDF, which tagwise does not read: copy its text into a .txt file saved as UTF-8"),
    ("a.rtf", b"{\\rtf1", "upload .txt"),
    ("a.txt", b"\xff\xfe\x00", "UTF-8"),
    ("a.csv", b"", "a.csv has no documents"),
    ("a.csv", b"text,labels\r\n", "a.csv has no documents"),
    ("a.jsonl", b"\n\n", "a.jsonl has no documents"),
])
def test_bad_files_say_what_is_wrong(name, data, message):
    with pytest.raises(InvalidRequest, match=message):
        parse(name, data)


@pytest.mark.parametrize("data, message", [
    # "Qué miedo y qué tristeza";fear;sadness;es was stored with classes [fear] and language "sadness"
    ('text;labels;language\n"Me alegro";joy;es\n"Qué miedo y qué tristeza";fear;sadness;es\n',
     "t.csv, row 3: 4 fields, but the header has 3 (text, labels, language)"),
    ('text,labels,language\n"Me alegro",joy,es\n"Qué miedo, y\nqué tristeza",fear,sadness,es\n',
     "t.csv, row 3: 4 fields, but the header has 3"),  # the row (the line the record starts on: the same here)
    ("text,labels,language\nhello,greeting,en\nbye,en\n",
     "t.csv, row 3: 2 fields, but the header has 3 (text, labels, language): give every column a field"),
    ("text,labels\n\n\nhello,joy,x\n", "t.csv, row 4: 3 fields"),  # a blank line is a row of a spreadsheet too
])
def test_a_csv_row_with_more_or_fewer_fields_than_the_header_is_refused_with_its_line(data, message):
    with pytest.raises(InvalidRequest, match=re.escape(message)) as refused:
        parse("t.csv", data.encode())
    assert refused.value.message.endswith("Nothing was added.")
    if "4 fields" in message:
        assert "double quotes" in refused.value.message and "joined by '|'" in refused.value.message


def test_empty_extra_fields_shift_nothing_and_are_read():
    assert [d["labels"] for d in parse("t.csv", b"text,labels\nhello,greeting,\nbye,,,\n")] == [["greeting"], None]


def test_a_tsv_is_read_as_tagwise_import_reads_it():
    # the studio refused .tsv ("upload .txt files, CSV or JSONL") while tagwise import took it
    data = 'text\tlabels\tlanguage\n"Preis: 12,50 €; zu teuer"\tbilling|urgent\tde_de\nHello\tgreeting\t\n'.encode()
    assert parse("tickets.tsv", data, multi=True) == [
        {"text": "Preis: 12,50 €; zu teuer", "location": None, "labels": ["billing", "urgent"], "dataset": None, "language": "de-DE"},
        {"text": "Hello", "location": None, "labels": ["greeting"], "dataset": None, "language": None},
    ]


def test_a_language_is_spelled_as_usual_and_a_word_that_is_no_code_is_refused():
    data = b"text,language\na,DE\nb,zh-hans\nc,es-419\nd,pt_br\n"
    assert [d["language"] for d in parse("t.csv", data)] == ["de", "zh-Hans", "es-419", "pt-BR"]
    for wrong in ("sadness", "deutsch", "english"):
        with pytest.raises(InvalidRequest, match=f"t.csv, row 2: the language '{wrong}' is not a language code: .* such as 'en', 'de'"):
            parse("t.csv", f"text,language\na,{wrong}\n".encode())
    with pytest.raises(InvalidRequest, match="t.jsonl, line 1: the language 'english' is not a language code"):
        parse("t.jsonl", b'{"text": "a", "language": "english"}\n')


def test_a_utf16_file_is_named_so_with_how_to_save_it_as_utf8():
    for encoding in ("utf-16", "utf-16-be"):
        data = ("\ufeff" if encoding == "utf-16-be" else "") + "text,labels\ncafé,x\n"
        with pytest.raises(InvalidRequest, match=r'UTF-16 text \(it starts with a UTF-16 byte-order mark\), not UTF-8: .*"CSV UTF-8"'):
            parse("excel.csv", data.encode(encoding))
    with pytest.raises(InvalidRequest, match="^latin.csv is not UTF-8 text: it looks like Windows-1252 text"):
        parse("latin.csv", "text\nfine\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidRequest, match="^hebrew.csv is not UTF-8 text: it looks like text in a Windows code page for another"):
        parse("hebrew.csv", "text,labels\nהחבילה לא הגיעה,משלוח\n".encode("cp1255"))
    with pytest.raises(InvalidRequest, match="^russian.csv is not UTF-8 text: it looks like text in a Windows code page for another"):
        parse("russian.csv", "text;labels\nЯ забыл пароль;вход\n".encode("cp1251"))
    with pytest.raises(InvalidRequest, match="^mixed.csv, line 3: not UTF-8 text \\(byte 0xe9\\)"):
        parse("mixed.csv", "text\nfiné\n".encode() + "caf\xe9\n".encode("latin-1"))


def test_an_ignored_column_is_named_as_names_are_compared_everywhere():
    _, ignored = parse_file("f.csv", "Texte,Cate\u0301gorie,Note\nbonjour,accueil,x\n".encode())
    assert ignored == ["Note"]  # "Catégorie" decomposed (a Mac's) was read, and also reported as a column not read


def test_jsonl_labels_are_read_as_tagwise_import_reads_them():
    # one reader for both: a class object not in a list, and the same message for what is no label
    rows = parse("l.jsonl", b'{"text": "a", "labels": ""}\n{"text": "b", "label": "x"}\n{"text": "c", "class": {"category": "y"}}\n')
    assert [r["labels"] for r in rows] == [None, ["x"], ["y"]]  # an empty label is an untagged row
    with pytest.raises(InvalidRequest, match=re.escape('l.jsonl, line 1: the labels must be a string, or a list of strings or of '
                                                       '{"category": ...} objects, not [1, 2].')):
        parse("l.jsonl", b'{"text": "a", "labels": [1, 2]}\n')


def test_a_row_is_named_as_a_spreadsheet_numbers_it_and_an_empty_text_cell_as_such():
    # "line 225: no text (a 'text' column is needed)" for row 30 of a file that has a text column,
    # whose descriptions hold line breaks, and whose one ticket had no description
    rows = "".join(f'"T-{i}","first line\nsecond line",Major\n' for i in range(3))
    with pytest.raises(InvalidRequest, match=re.escape("t.csv, row 5 (line 8 of the file): its text is empty. Fill it in or remove")):
        parse("t.csv", f'id,text,label\n{rows}"T-3",,Minor\n'.encode())


def test_multi_label_classes_joined_by_a_comma_are_refused_with_the_separators_to_use():
    # "card, payments" became one class, and the message listing new classes, joined by ", ", hid it
    data = b'text,labels\n"declined at the shop","card, payments"\n'
    with pytest.raises(InvalidRequest, match=re.escape("t.csv, row 2: the labels 'card, payments' hold a comma. Several classes go in "
                                                       "the labels field joined by '|' or ';' (card|payments)")):
        parse("t.csv", data, multi=True)
    assert parse("t.csv", data)[0]["labels"] == ["card, payments"]  # single-label: a class name may have a comma
    with pytest.raises(InvalidRequest, match=re.escape("(card|payments|refund)")):  # with a separator too
        parse("t.csv", b'text,labels\n"declined","card, payments|refund"\n', multi=True)
    for comma in "、，،":  # ideographic, full-width and Arabic commas: "請求、配送" was one class
        with pytest.raises(InvalidRequest, match=re.escape("hold a comma. Several classes go in the labels field joined by '|' or ';' (a|b)")):
            parse("t.csv", f'text,labels\nx,"a{comma}b"\n'.encode(), multi=True)
    with pytest.raises(InvalidRequest, match=re.escape("t.jsonl, line 1: its text is 5, not a string")):  # it was "empty"
        parse("t.jsonl", b'{"text": 5}\n')


def test_the_columns_an_upload_does_not_read_are_named():
    docs, ignored = parse_file("jira.csv", b"Issue key,Summary,text,Priority\nH-1,Crash,It crashes,Major\n")
    assert ignored == ["Issue key", "Summary", "Priority"] and docs[0]["labels"] is None


def test_the_text_and_label_columns_can_be_named_when_a_file_names_them_otherwise():
    # a Jira export: "Summary" holds the text and "Priority" the class; the upload refused it ("no text column")
    jira = b"Issue key,Summary,Priority,text\nH-1,Crash on start,Major,old notes\nH-2,Typo in docs,Minor,\n"
    docs, ignored = parse_file("jira.csv", jira, columns=Columns(text=" summary ", labels="Priority"))
    assert [(d["text"], d["labels"], d["location"]) for d in docs] == [("Crash on start", ["Major"], None), ("Typo in docs", ["Minor"], None)]
    assert ignored == ["Issue key", "text"]  # the usual text column is not read when another is named, and is said so
    with pytest.raises(InvalidRequest, match=re.escape("jira.csv, line 1: the header has no column 'Description' for the text "
                                                       "(its columns, split on ',': 'Issue key', 'Summary', 'Priority', 'text')")):
        parse_file("jira.csv", jira, columns=Columns(text="Description"))
    with pytest.raises(InvalidRequest, match="no column 'Prio' for the labels"):  # every document came in untagged
        parse_file("jira.csv", jira, columns=Columns(text="Summary", labels="Prio"))
    with pytest.raises(InvalidRequest, match="The text and the classes cannot both be read from the column 'Summary'"):
        parse_file("jira.csv", jira, columns=Columns(text="Summary", labels=" summary"))
    # each document's name from "Issue key": next week's export of the same tickets can then skip them
    docs, ignored = parse_file("jira.csv", jira, columns=Columns(text="Summary", labels="Priority", location="issue key"))
    assert [d["location"] for d in docs] == ["H-1", "H-2"] and ignored == ["text"]
    with pytest.raises(InvalidRequest, match="The text and the documents' names cannot both be read from the column 'Summary'"):
        parse_file("jira.csv", jira, columns=Columns(text="Summary", location="summary"))
    with pytest.raises(InvalidRequest, match="Name the column that holds the text under \"Columns\""):
        parse_file("jira.csv", b"Summary,Priority\nCrash,Major\n")
    # JSONL: a field; a line without the named field is refused with its line
    lines = b'{"body": "Refund please", "topic": "billing"}\n{"body": "Card lost", "text": "x", "topic": "card"}\n'
    docs, _ = parse_file("t.jsonl", lines, columns=Columns(text="body", labels="topic"))
    assert [(d["text"], d["labels"]) for d in docs] == [("Refund please", ["billing"]), ("Card lost", ["card"])]
    with pytest.raises(InvalidRequest, match=re.escape("t.jsonl, line 1: no field 'message' for the text (its fields: 'body', 'topic')")):
        parse_file("t.jsonl", lines, columns=Columns(text="message"))


def test_two_columns_that_read_as_one_name_are_refused_naming_both():
    # "text" and "Text": the upload read the last and tagwise import the first, and neither said so
    with pytest.raises(InvalidRequest, match=r"tickets.csv, line 1: the columns 'text' and 'Text' are one column to tagwise .*"
                                             r"Rename or remove one of them; nothing was added"):
        parse_file("tickets.csv", b"id,text,Text\nt1,short,the full ticket\n")


def test_a_workbook_and_a_windows_encoded_csv_are_named_with_how_to_save_them():
    # a workbook was "line 1: not UTF-8 text (byte 0xe4)"; Excel's plain CSV was sent to a line with nothing wrong
    with pytest.raises(InvalidRequest, match=r"^tickets.xlsx is an Excel workbook, which tagwise does not read: save it as CSV "
                                             r"\(Excel: File > Save As > \"CSV UTF-8\"\) and use the .csv file. Nothing was added.$"):
        parse_file("tickets.xlsx", b"PK\x03\x04\x14\x00\x06\x00\xe4")
    windows = "id;text;label\nt1;\"Bonjour,\nma facture de 12 € n'est pas arrivée\";Facturation\n".encode("cp1252")
    with pytest.raises(InvalidRequest, match=r"^tickets.csv is not UTF-8 text: it looks like Windows-1252 text, which Excel's "
                                             r"plain \"CSV\" format writes on Windows .* save it as \"CSV UTF-8\" instead \(Excel: File > Save As\), "
                                             r"which keeps every accent, and upload it again. Nothing was added.$"):
        parse_file("tickets.csv", windows)
    # a UTF-8 file with one stray byte is not Windows text: its line is named
    with pytest.raises(InvalidRequest, match=r"^tickets.csv, line 3: not UTF-8 text \(byte 0x80\)"):
        parse_file("tickets.csv", "id;text\nt1;Réclamation\nt2;prix \x80\n".encode().replace(b"\xc2\x80", b"\x80"))
    with pytest.raises(InvalidRequest, match=r"^tickets.csv, line 3: not UTF-8 text \(byte 0x80\)"):  # after a byte-order mark it named 0x6f
        parse_file("tickets.csv", "\ufeffid;text\nt1;Réclamation\nt2;prix \x80\n".encode().replace(b"\xc2\x80", b"\x80"))


def test_the_emptied_rows_a_spreadsheet_leaves_are_skipped_and_rows_keep_their_numbers():
    data = b"id;text;label\nt1;my card;card\n;;\nt2;;card\n;;\n"
    with pytest.raises(InvalidRequest, match=r"tickets.csv, row 4: its text is empty"):
        parse_file("tickets.csv", data)
    docs, _ = parse_file("tickets.csv", b"id;text;label\nt1;my card;card\n;;\nt3;a refund;refund\n;;\n")
    assert [d["location"] for d in docs] == ["t1", "t3"]


def test_excels_separator_line_and_a_french_header_are_read_as_excel_shows_them():
    # "sep=;" was read as a header with the columns 'sep=' and ''; "Texte;Catégorie" had "no text column"
    docs, ignored = parse_file("tickets.csv", "sep=;\r\nNuméro;Texte;Catégorie\r\nt1;Ma facture, encore;Facturation\r\n".encode("utf-8-sig"))
    assert [(d["text"], d["labels"]) for d in docs] == [("Ma facture, encore", ["Facturation"])] and ignored == ["Numéro"]
    with pytest.raises(InvalidRequest, match=r"tickets.csv, row 2 \(line 3 of the file\): its text is empty"):
        parse_file("tickets.csv", b"sep=;\nid;Texte;Kategorie\nt1;;Zugang\n")


def test_a_compressed_file_a_deep_json_line_and_too_many_documents_are_refused_as_read():
    with pytest.raises(InvalidRequest, match=r"^tickets.csv is gzip-compressed, not text: unpack it"):
        parse_file("tickets.csv", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\xff\xe4\x80")  # it was "Windows-1252 text"
    with pytest.raises(InvalidRequest, match=r"^deep.jsonl, line 2: its JSON is nested too deeply"):  # it was a 500
        parse_file("deep.jsonl", b'{"text": "fine"}\n{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    many = b"text\n" + b"a\n" * 3_000_000  # 3 million one-word rows were read whole (600 MB) before the count was checked
    with pytest.raises(InvalidRequest, match=r"^many.csv has more than 10 documents; split it"):
        parse_file("many.csv", many, limit=10, beyond="split it")
    assert len(parse_file("ten.csv", b"text\n" + b"a\n" * 10, limit=10)[0]) == 10
