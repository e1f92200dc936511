"""Reading uploaded .txt, CSV and JSONL files into documents."""

from __future__ import annotations

import pytest

from tagwise.errors import InvalidRequest
from tagwise.studio.uploads import parse


def test_txt_is_one_document_named_by_the_file():
    assert parse("C:\\Users\\me\\note.txt", "\ufeff  Hello there \n".encode()) == [{"location": "note.txt", "text": "Hello there"}]


def test_csv_with_labels_location_and_dataset():
    data = b"ID,Text,Labels,Split\n1,\"card, lost\",card|lost,Train\n2,hello,,\n"
    assert parse("x.csv", data) == [
        {"text": "card, lost", "location": "1", "labels": ["card", "lost"], "dataset": "Train", "language": None},
        {"text": "hello", "location": "2", "labels": None, "dataset": None, "language": None},
    ]
    # ';' as tagwise import and tagwise classify write it: "anger;joy" was one class named so
    assert parse("y.csv", b"text,labels\nugh,anger;joy\n")[0]["labels"] == ["anger", "joy"]


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


@pytest.mark.parametrize("name, data, message", [
    ("a.csv", b"label\nx\n", "no text"),
    ("a.jsonl", b'{"text": "ok"}\nnot json\n', "line 2"),
    ("a.jsonl", b'["list"]\n', "JSON object"),
    ("a.pdf", b"%PDF", "upload .txt"),
    ("a.txt", b"\xff\xfe\x00", "UTF-8"),
    ("a.csv", b"", "a.csv has no documents"),
    ("a.csv", b"text,labels\r\n", "a.csv has no documents"),
    ("a.jsonl", b"\n\n", "a.jsonl has no documents"),
])
def test_bad_files_say_what_is_wrong(name, data, message):
    with pytest.raises(InvalidRequest, match=message):
        parse(name, data)
