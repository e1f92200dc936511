"""Input files a user gets wrong: one ``error: FILE:LINE: ...`` line, exit code 2, nothing imported or classified."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import ok, partly, write_jsonl
from tests.cli.test_errors import one_error_line
from tests.cli.test_import_formats import exported

NOT_UTF8 = {  # file name -> (bytes, the line of the first bad byte): UTF-8 ("naïve") with one Latin-1 byte further on
    "latin1.jsonl": ('{"id": "a", "text": "naïve", "labels": ["x"]}\n'.encode() + '{"id": "b", "text": "caf\xe9", "labels": ["x"]}\n'.encode("latin-1"), 2),
    "latin1.csv": ("text,labels\nnaïve,x\n".encode() + "caf\xe9,x\n".encode("latin-1"), 3),
    "latin1.txt": ("naïve\n".encode() + "caf\xe9\n".encode("latin-1"), 2),
}


def documents_of(cli, tmp_path, name: str) -> list[dict]:
    path = tmp_path / f"{name}-export.json"
    ok(cli("export", name, "-o", str(path)))
    return json.loads(path.read_text())["assets"]["documents"]


@pytest.fixture
def imported(cli, bank, tmp_path):
    """Project ``bank`` holding the training slice: a failed import must leave it as it is."""
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    return len(bank.train)


@pytest.mark.parametrize("name", ["latin1.jsonl", "latin1.csv"])
def test_import_of_a_file_that_is_not_utf8_is_refused(cli, tmp_path, imported, name):
    data, line = NOT_UTF8[name]
    path = tmp_path / name
    path.write_bytes(data)
    message = one_error_line(cli("import", "bank", str(path)), code=2)
    assert f"{path}:{line}: not UTF-8 text (byte 0xe9" in message and "save it as UTF-8" in message
    assert len(documents_of(cli, tmp_path, "bank")) == imported


def test_import_of_a_utf16_csv_or_a_latin1_txt_in_a_folder_is_refused(cli, tmp_path, imported):
    utf16 = tmp_path / "excel.csv"
    utf16.write_bytes("text,labels\ncafé,x\n".encode("utf-16"))
    assert f"{utf16}:1: UTF-16 text" in one_error_line(cli("import", "bank", str(utf16)), code=2)
    folder = tmp_path / "texts"
    (folder / "x").mkdir(parents=True)
    (folder / "x" / "a.txt").write_bytes("caf\xe9".encode("latin-1"))
    # all of it Windows' encoding (as an editor on Windows saves it): said so, with how to convert it
    assert f"{folder / 'x' / 'a.txt'}: not UTF-8 text: it looks like Windows-1252 text" in \
        one_error_line(cli("import", "bank", str(folder)), code=2)
    assert len(documents_of(cli, tmp_path, "bank")) == imported


@pytest.mark.parametrize("name", ["latin1.jsonl", "latin1.csv", "latin1.txt"])
def test_classify_of_a_file_that_is_not_utf8_is_refused(deployed, tmp_path, name):
    data, line = NOT_UTF8[name]
    path = tmp_path / name
    path.write_bytes(data)
    message = one_error_line(deployed.cli("classify", "bank", "prod", str(path), "-o", str(tmp_path / "out.jsonl")), code=2)
    assert f"{path}:{line}: not UTF-8 text (byte 0xe9" in message


@pytest.mark.parametrize("suffix, header, batch", [(".jsonl", "", "64"), (".txt", "", "1"), (".csv", "id,text\n", "64")])
def test_every_document_before_a_line_that_is_not_utf8_is_classified(deployed, tmp_path, suffix, header, batch):
    # the text stream decodes 8 KB at a time: 1,930 of the 2,000 documents before the bad line were written (none
    # with --batch-size 1 and one good line), and the batch being filled was dropped
    def line(n: int) -> str:
        text = f"my card payment {n} was declined"
        return json.dumps({"id": f"d{n}", "text": text}) + "\n" if suffix == ".jsonl" else f"d{n},{text}\n" if suffix == ".csv" else text + "\n"

    path, out = tmp_path / f"bad{suffix}", tmp_path / "out.jsonl"
    path.write_bytes((header + "".join(line(n) for n in range(300))).encode() + b"caf\x81\n" + line(300).encode())
    bad_line = 301 + bool(header)
    result = deployed.cli("classify", "bank", "prod", str(path), "-o", str(out), "--batch-size", batch)
    assert f"{path}:{bad_line}: not UTF-8 text (byte 0x81" in one_error_line(result, code=2)
    written = [json.loads(row)["id"] for row in out.read_text().splitlines()]
    assert written == ([f"d{n}" for n in range(300)] if suffix != ".txt" else [str(n) for n in range(1, 301)])
    again = deployed.cli("classify", "bank", "prod", str(path), "-o", str(out))  # a rerun goes on after them to the same error
    assert again.exit_code == 2 and again.stderr.splitlines()[0].startswith(f"resuming: 300 documents already in {out}")
    assert again.stderr.splitlines()[1].startswith(f"error: {path}:{bad_line}: not UTF-8 text")
    assert len(out.read_text().splitlines()) == 300


def test_every_document_piped_before_a_line_that_is_not_utf8_is_classified(deployed, tmp_path):
    # stdin cannot be read again: the documents of the 8 KB chunk that held the bad byte went unwritten (281 of 300 written)
    out = tmp_path / "out.jsonl"
    piped = "".join(json.dumps({"id": f"d{n}", "text": f"my card payment {n} was declined"}) + "\n" for n in range(300))
    result = deployed.cli("classify", "bank", "prod", "-", "--input-format", "jsonl", "-o", str(out),
                          input=piped.encode() + b"caf\x81\n" + b'{"text": "last"}\n')
    assert "stdin:301: not UTF-8 text (byte 0x81 at column 4)" in one_error_line(result, code=2)
    assert [json.loads(row)["id"] for row in out.read_text().splitlines()] == [f"d{n}" for n in range(300)]


def test_an_id_with_a_control_character_names_its_file_and_line(cli, tmp_path, imported):
    # the service refused it (exit 1) without saying which file or line
    jsonl, csv_file = tmp_path / "ctrl.jsonl", tmp_path / "ctrl.csv"
    jsonl.write_text('{"id": "ok", "text": "x", "labels": ["y"]}\n{"id": "a\\u0001b", "text": "x", "labels": ["y"]}\n')
    csv_file.write_text('id,text,labels\n"a\tb",x,y\n')
    assert one_error_line(cli("import", "bank", str(jsonl)), code=2).startswith(f"error: {jsonl}:2: The document location 'a\\x01b' is invalid")
    assert one_error_line(cli("import", "bank", str(csv_file)), code=2).startswith(f"error: {csv_file}:2: The document location 'a\\tb'")
    assert len(documents_of(cli, tmp_path, "bank")) == imported


def test_reading_again_up_to_a_bad_line_reads_as_the_first_read_did(deployed, tmp_path):
    # the documents before the bad line are read again from the file: a lone carriage return split a line only in the
    # first read (a document was skipped and the ids after shifted), a bad byte in a quoted field that runs over two lines
    # read as "a quoted field is never closed", and a Windows-1252 header as "no column 'text'"
    lines = [f"my card payment {n} was declined" for n in range(300)]
    lines[5] = "foo\rbar"
    txt, out = tmp_path / "cr.txt", tmp_path / "out.jsonl"
    txt.write_bytes(("\n".join(lines) + "\n").encode() + b"caf\x81\nlast\n")
    assert f"{txt}:301: not UTF-8 text (byte 0x81" in one_error_line(deployed.cli("classify", "bank", "prod", str(txt), "-o", str(out)), code=2)
    assert [json.loads(row)["id"] for row in out.read_text().splitlines()] == [str(n) for n in range(1, 302)]
    multi = tmp_path / "multi.csv"
    rows = "".join(f"d{n},my card payment {n} was declined\n" for n in range(300))
    multi.write_bytes(b"id,text\n" + rows.encode() + b'd300,"first line\ncaf\x81 second line"\nd301,ok\n')
    said = one_error_line(deployed.cli("classify", "bank", "prod", str(multi), "-o", str(tmp_path / "multi.jsonl")), code=2)
    assert f"{multi}:303: not UTF-8 text (byte 0x81" in said
    assert len((tmp_path / "multi.jsonl").read_text().splitlines()) == 300
    excel = tmp_path / "excel.csv"
    excel.write_bytes("Catégorie,text\nfacture,Où est ma facture\n".encode("cp1252"))
    said = one_error_line(deployed.cli("classify", "bank", "prod", str(excel), "-o", str(tmp_path / "excel.jsonl")), code=2)
    assert "it looks like Windows-1252 text" in said


QUOTE = 'text,labels\n"unterminated,a\nmore,b\nand more,c\n'


def test_an_unclosed_quote_in_a_csv_imports_nothing(cli, tmp_path, imported):
    path = tmp_path / "quote.csv"
    path.write_text(QUOTE)
    assert f"{path}:2: a quoted field is never closed" in one_error_line(cli("import", "bank", str(path)), code=2)
    assert len(documents_of(cli, tmp_path, "bank")) == imported


def test_an_unclosed_quote_in_a_csv_classifies_nothing(deployed, tmp_path):
    path, out = tmp_path / "quote.csv", tmp_path / "out.jsonl"
    path.write_text("id,text\n" + QUOTE.split("\n", 1)[1])
    result = deployed.cli("classify", "bank", "prod", str(path), "-o", str(out))
    assert f"{path}:2: a quoted field is never closed" in one_error_line(result, code=2)
    assert not out.exists() or out.read_text() == ""


@pytest.mark.parametrize("content", ["", "\n\n", "text,labels\n", "folder"], ids=["empty", "blank lines", "csv header only", "empty folder"])
def test_an_input_without_documents_does_not_wipe_the_project(cli, tmp_path, imported, content):
    if content == "folder":
        path = tmp_path / "nothing"
        path.mkdir()
    else:
        path = tmp_path / ("in.csv" if content.startswith("text") else "in.jsonl")
        path.write_text(content)
    message = one_error_line(cli("import", "bank", str(path)), code=2)
    assert f"{path} holds no documents; nothing was imported" in message
    assert len(documents_of(cli, tmp_path, "bank")) == imported


def azure_file(documents, classes=None, kind="CustomSingleLabelClassification") -> dict:
    return {"projectFileVersion": "2022-05-01", "metadata": {"projectKind": kind, "language": "en"},
            "assets": {"projectKind": kind, "classes": classes if classes is not None else [{"category": "x"}],
                       "documents": documents}}


MULTI = "CustomMultiLabelClassification"
BAD_AZURE = {
    "category null": (azure_file([{"location": "a", "text": "t", "class": {"category": None}}]), "document 'a': class"),
    "category number": (azure_file([{"location": "a", "text": "t", "class": {"category": 7}}]), "document 'a': class"),
    "bad assets.classes": (azure_file([{"location": "a", "text": "t"}], classes=["x", {"category": 3}]), "assets.classes[1]"),
    "classes a string": (azure_file([{"location": "a", "text": "t", "classes": "anger"}], kind=MULTI), "document 'a': 'classes'"),
    "no location": (azure_file([{"location": "a", "text": "t"}, {"text": "u"}]), "assets.documents[1] has no 'location'"),
    "documents an object": (azure_file({"location": "a"}), "assets.documents must be a list"),
}


@pytest.mark.parametrize("case", BAD_AZURE, ids=list(BAD_AZURE))
def test_a_malformed_azure_project_file_is_one_line_naming_the_document(cli, tmp_path, case):
    body, expected = BAD_AZURE[case]
    path = tmp_path / "project.json"
    path.write_text(json.dumps(body))
    message = one_error_line(cli("import", "az", str(path)), code=2)
    assert message.startswith(f"error: {path}: ") and expected in message
    assert cli("project", "show", "az").exit_code == 1  # not created


def test_a_json_error_says_where(cli, deployed, tmp_path, imported):
    path = tmp_path / "control.jsonl"
    path.write_text('{"id": "a", "text": "fine", "labels": ["x"]}\n{"id": "b", "text": "tab\there", "labels": ["x"]}\n')
    message = one_error_line(cli("import", "bank", str(path)), code=2)
    assert f"{path}:2: not a JSON line (Invalid control character at column 25)" in message
    message = one_error_line(deployed.cli("classify", "bank", "prod", str(path)), code=2)
    assert f"{path}:2: not a JSON line (Invalid control character at column 25)" in message
    # a string whose closing quote is missing read "Invalid control character" too (the line's end)
    path.write_text('{"id": "a", "text": "fine", "labels": ["x"]}\n{"id": "b", "text": "no end\n')
    message = one_error_line(cli("import", "bank", str(path)), code=2)
    assert f"{path}:2: not a JSON line (the string that starts at column 21 is never closed: its closing quote is missing)" in message
    # a line whose text sits under another name says which names it has
    other = write_jsonl(tmp_path / "other.jsonl", [{"id": "a", "body": "fine", "labels": ["x"]}])
    assert f"{other}:1: each line needs a JSON object with a string 'text' (this one has 'id', 'body', 'labels')" in one_error_line(
        cli("import", "bank", str(other)), code=2)
    null = write_jsonl(tmp_path / "null.jsonl", [{"id": "a", "text": None, "labels": ["x"]}])  # there, but not a string
    assert f"{null}:1: 'text' is null, not a string" in one_error_line(cli("import", "bank", str(null)), code=2)
    assert f"{null}:1: 'text' is null, not a string" in one_error_line(deployed.cli("classify", "bank", "prod", str(null)), code=2)


def test_import_accepts_a_byte_order_mark(cli, bank, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + bank.path("train.jsonl").read_bytes())
    ok(cli("import", "bank", str(path), "--kind", "single"))
    assert {d["location"] for d in documents_of(cli, tmp_path, "bank")} == {r["id"] for r in bank.train}


def test_ids_with_a_slash_are_renamed_and_the_user_is_told(cli, tmp_path):
    path = write_jsonl(tmp_path / "ids.jsonl", [{"id": "2024/05/a", "text": "my card is lost", "labels": ["card"]},
                                                 {"id": "b", "text": "top up failed", "labels": ["top_up"]}])
    result = ok(cli("import", "p", str(path), "--kind", "single"))
    assert f"{path}:1: id '2024/05/a' imported as '2024_05_a'" in result.stderr
    assert {d["location"] for d in documents_of(cli, tmp_path, "p")} == {"2024_05_a", "b"}


def test_an_id_given_twice_names_both_places_and_imports_nothing(cli, tmp_path, imported):
    # the service's "The document location 'a' appears twice." named no file and exited 1
    first = write_jsonl(tmp_path / "train.jsonl", [{"id": "a", "text": "my card is lost", "labels": ["card"]},
                                                   {"id": "b", "text": "top up failed", "labels": ["top_up"]}])
    second = tmp_path / "test.csv"
    second.write_text("id,text,label\nc,where is my card,card\nb,top up did not work,top_up\n", encoding="utf-8")
    message = one_error_line(cli("import", "bank", str(first), str(second)), code=2)
    assert message == (f"error: {second}:3: id 'b' is also at {first}:2; each document needs its own id (nothing was imported)")
    assert "given twice" in one_error_line(cli("import", "bank", str(first), str(tmp_path / "." / "train.jsonl")), code=2)
    # without ids, a document is named <file name>-<line>: two files named alike are told so, not "give it its own id"
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    twin = write_jsonl(tmp_path / "one" / "train.jsonl", [{"text": "card lost", "labels": ["card"]}])
    alike = write_jsonl(tmp_path / "two" / "train.jsonl", [{"text": "top up", "labels": ["top_up"]}])
    message = one_error_line(cli("import", "bank", str(twin), str(alike)), code=2)
    assert f"{alike}:1: the location 'train-1' is also that of {twin}:1" in message and "rename one of the files" in message
    assert len(documents_of(cli, tmp_path, "bank")) == imported


def test_an_import_that_creates_its_project_says_so(cli, tmp_path):
    path = write_jsonl(tmp_path / "ids.jsonl", [{"id": "a", "text": "my card is lost", "labels": ["card"]}])
    assert "created project newname (multi-label, de)" in ok(cli("import", "newname", str(path), "--kind", "multi", "--language", "de")).stderr
    assert "created project" not in ok(cli("import", "newname", str(path))).stderr


def test_a_tsv_input_is_classified_like_a_tsv_import_reads_it(deployed, tmp_path):
    path = tmp_path / "queries.tsv"
    path.write_text("id\ttext\nq1\tmy card has not arrived\nq2\thow do I top up\n")
    rows = [json.loads(line) for line in ok(deployed.cli("classify", "bank", "prod", str(path))).stdout.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]


def test_a_lone_surrogate_in_a_jsonl_file_is_one_line_and_imports_nothing(cli, tmp_path, imported):
    # JSON's "\ud800" escape reads as a string no store can hold: it was a traceback
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"id": "a", "text": "fine", "labels": ["x"]}\n{"id": "s1", "text": "lone \\ud800 x", "labels": ["x"]}\n')
    message = one_error_line(cli("import", "bank", str(path), "--append"))
    assert "its text is not valid Unicode: it has a lone UTF-16 surrogate (\\ud800)" in message
    assert len(documents_of(cli, tmp_path, "bank")) == imported


def test_a_lone_surrogate_in_a_document_to_classify_is_that_document_s_error(deployed, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "1", "text": "my card was declined"}\n{"id": "2", "text": "lone \\ud800"}\n')
    out = tmp_path / "out.jsonl"
    partly(deployed.cli("classify", "bank", "prod", str(path), "-o", str(out)))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["predictions"] and "not valid Unicode" in rows[1]["error"]


def test_a_utf16_file_says_how_to_make_it_utf8(cli, tmp_path, imported):
    path = tmp_path / "Excel export.csv"
    path.write_bytes("text,labels\ncafé,x\n".encode("utf-16"))
    message = one_error_line(cli("import", "bank", str(path)), code=2)
    assert "UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8" in message and '"CSV UTF-8"' in message
    assert f"iconv -f UTF-16 -t UTF-8 '{path}' > '{tmp_path / 'Excel export-utf8.csv'}'" in message


def test_a_csv_row_with_more_fields_than_its_header_classifies_nothing_past_it(deployed, tmp_path):
    # the text was cut at its first comma and the rest dropped: a confident class for half a sentence
    path, out = tmp_path / "queries.csv", tmp_path / "out.jsonl"
    path.write_text("id,text\n1,where is my card\n2,I paid twice, please refund one\n", encoding="utf-8")
    result = deployed.cli("classify", "bank", "prod", str(path), "-o", str(out))
    assert f"{path}:3: 3 fields, but the header has 2 (id, text)" in one_error_line(result, code=2)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1"]  # the rows before it, as for other bad lines


def test_a_first_import_of_a_csv_refuses_classes_that_look_alike(cli, tmp_path):
    # the studio's upload and --append refused them; the first `tagwise import` (the usual way to start) let
    # ログインできない and its half-width twin in as two classes, and Login beside login
    for rows in ("ログインできない,ログインできない\nﾛｸﾞｲﾝできない,ﾛｸﾞｲﾝできない\n", "my login,Login\nlog in,login\n"):
        path = tmp_path / "twins.csv"
        path.write_text("text,labels\n" + rows, encoding="utf-8")
        said = one_error_line(cli("import", "twins", str(path), "--kind", "single"), code=2)
        assert "differs from this file's" in said and "only in case" in said
    assert cli("project", "show", "twins").exit_code == 1  # nothing was created


def test_a_csv_imported_beside_an_azure_file_is_checked_against_its_classes(cli, tmp_path):
    # the file's classes are taken as they are (old exports import again); the CSV's were not checked at all
    project_file, rows = tmp_path / "export.json", tmp_path / "more.csv"
    project_file.write_text(json.dumps(azure_file([{"location": "a.txt", "text": "I cannot log in", "class": {"category": "Login"}}],
                                                  classes=[{"category": "Login"}, {"category": "LOGIN"}])))
    rows.write_text("text,labels\nmy password does not work,login\n", encoding="utf-8")
    said = one_error_line(cli("import", "twins", str(project_file), str(rows)), code=2)
    assert "'login' differs from" in said and "'Login' only in case" in said
    assert cli("project", "show", "twins").exit_code == 1  # nothing was created
    ok(cli("import", "twins", str(project_file)))  # the file alone, its twins as they are
    decomposed = tmp_path / "decomposed.json"  # a CSV naming the file's class as the file writes it is that class
    decomposed.write_text(json.dumps(azure_file([{"location": "a.txt", "text": "un café", "class": {"category": "cafe\u0301"}}],
                                                classes=[{"category": "cafe\u0301"}])))
    rows.write_text("text,labels\nun autre café,cafe\u0301\n", encoding="utf-8")
    ok(cli("import", "cafe", str(decomposed), str(rows)))
    rows.write_text("text,labels\nmy password does not work,password\n", encoding="utf-8")
    # a new project from both, the CSV named first: the file says the kind ("does not exist; create it first" before)
    ok(cli("import", "both", str(rows), str(project_file)))
    assert sorted(d["class"]["category"] for d in exported(cli, tmp_path, "both")["assets"]["documents"]) == ["Login", "password"]


def test_an_id_that_is_no_unicode_text_names_its_line(deployed, tmp_path):
    # "\ud800" as a JSON line's id: writing its output line ended in a UnicodeEncodeError traceback, and nothing was written
    path, out = tmp_path / "ids.jsonl", tmp_path / "out.jsonl"
    path.write_text('{"id": "ok", "text": "my card"}\n{"id": "\\ud800", "text": "my card was declined"}\n', encoding="utf-8")
    said = one_error_line(deployed.cli("classify", "bank", "prod", str(path), "-o", str(out)), code=2)
    assert said.startswith(f"error: {path}:2: the id \"\\ud800\" holds a lone surrogate")
