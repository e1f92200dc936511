"""The studio's document lists (``document_records``) against a plain Python reading of the same rows,
on both backends (``store`` is parametrized): pages in id order, counts, the (tagged, dataset) counts, search."""

from __future__ import annotations

import pytest

from tagwise.storage import document_records as docs_db
from tagwise.storage import records
from tagwise.storage.db import ACCENTED_LATIN, COMBINING_ACCENTS, PLAIN_LATIN, fold, strip_accents
from tagwise.storage.document_records import DocumentFilter
from tests.storage.test_contract import project_values

# texts whose folded form differs from SQLite's ASCII-only LIKE: the search must still find them
TEXTS = [
    "my card never arrived", "CARD STOLEN", "Ｃａｒｄ declined (full width)", "the ﬁle is missing (ligature)",
    "Die Straße ist gesperrt", "STRASSE closed", "ЗАКАЗ не пришёл", "мой заказ", "un café noir", "un cafe\u0301 decompose",
    "Les États-Unis", "a 5 \u212a cable (Kelvin sign)", "100% sure the_rate is wrong", "plain ascii text",
    "El NIÑO llegó tarde", "Nguyễn paid twice", "Ørsted refund", "un clin d'œil", "ŁÓDŹ branch",
    "Ce n\u2019est pas arrivé", "it's \u201curgent\u201d",
    "أين طلبي رقم ٤٥٢١", "مَرْحَبًا، الشحنة متأخرة", "שָׁלוֹם חבילה", "パス\u200bワードを忘れた",
]
# an apostrophe or double quote, straight or typographic, finds the others (Outlook writes n’est, a person types n'est)
QUOTES = str.maketrans({**dict.fromkeys("\u2018\u2019\u02bc\u201b", "'"), **dict.fromkeys("\u201c\u201d\u201e", '"')})


@pytest.fixture
def listed(store):
    """A project whose documents mix datasets, tagged and untagged, ASCII and other texts, in a shuffled insert order."""
    rows = []
    for i in range(90):
        labels = None if i % 3 == 0 else ["a"] if i % 3 == 1 else ["b"]
        dataset = (None, "Train", "Test")[i % 4 % 3]
        location = f"doc-{(i * 37) % 90:03d}-{'Ü' if i % 5 == 0 else 'u'}.txt"  # location order is not id order
        rows.append({"location": location, "text": f"{TEXTS[i % len(TEXTS)]} #{i}", "language": "en", "dataset": dataset, "labels": labels})
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
        docs_db.insert_many(conn, project_id, rows)
    with store.db.read() as conn:
        stored = records.list_documents(conn, project_id)
    return store, project_id, stored


def _page(store, project_id, flt, limit, offset):
    with store.db.read() as conn:
        items, total, digest = docs_db.page(conn, project_id, flt, limit, offset)
        assert digest == docs_db.ids_digest(docs_db.matching_ids(conn, project_id, flt))  # what "all N matching" checks the list by
    return [d["location"] for d in items], total


@pytest.mark.parametrize("dataset", [None, "Train", "Test", "none"])
def test_pages_are_in_id_order_and_counted(listed, dataset):
    store, project_id, stored = listed
    expected = [d["location"] for d in stored if dataset is None or d["dataset"] == (None if dataset == "none" else dataset)]
    for offset in (0, 7, len(expected) - 3, len(expected), len(expected) + 50):
        assert _page(store, project_id, DocumentFilter(dataset=dataset), 7, offset) == (expected[offset : offset + 7], len(expected))


def test_status_counts(listed):
    store, project_id, stored = listed
    expected: dict = {}
    for d in stored:
        key = (d["labels"] is not None, d["dataset"])
        expected[key] = expected.get(key, 0) + 1
    with store.db.read() as conn:
        assert docs_db.status_counts(conn, project_id) == expected


def test_class_counts_count_every_class_of_every_tagged_document(store):
    """Multi-label lists too: a document counts once for each class it has, untagged for none, and ``[]``
    once under ``NO_CLASS`` (shown on the Overview as "no class")."""
    labels = [["a", "b"], ["b"], [], None, ["a"], ["b", "a"], ["c", "a", "b"], None, ["a"], []]
    rows = [{"location": f"m{i}.txt", "text": f"text {i}", "language": "en", "dataset": (None, "Train", "Test")[i % 3],
             "labels": value} for i, value in enumerate(labels * 3)]
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
        docs_db.insert_many(conn, project_id, rows)
    expected: dict = {}
    for row in rows:
        for label in [docs_db.NO_CLASS] if row["labels"] == [] else row["labels"] or []:
            expected[(label, row["dataset"])] = expected.get((label, row["dataset"]), 0) + 1
    with store.db.read() as conn:
        assert docs_db.class_counts(conn, project_id) == expected


def test_untagged_ids_come_spread_over_the_project_without_the_skipped(listed):
    store, project_id, stored = listed
    untagged = sorted((d["id"] for d in stored if d["labels"] is None), key=lambda i: (i * docs_db.ID_MIX % docs_db.ID_MOD, i))
    assert untagged != sorted(untagged)  # not the file's order
    with store.db.read() as conn:
        assert docs_db.spread_untagged_ids(conn, project_id, (), 1) == [untagged[0]]
        assert docs_db.spread_untagged_ids(conn, project_id, {untagged[0], untagged[2]}, 1) == [untagged[1]]
        assert docs_db.spread_untagged_ids(conn, project_id, set(untagged[:-1]), 1) == [untagged[-1]]
        assert docs_db.spread_untagged_ids(conn, project_id, set(untagged), 1) == []
        assert docs_db.spread_untagged_ids(conn, project_id, {untagged[0]}, 3) == untagged[1:4]


def test_untagged_among_keeps_the_untagged_documents_of_the_project(listed):
    store, project_id, stored = listed
    ids = [d["id"] for d in stored]
    with store.db.read() as conn:
        assert sorted(docs_db.untagged_among(conn, project_id, [*ids, max(ids) + 1])) == [d["id"] for d in stored if d["labels"] is None]
        assert docs_db.untagged_among(conn, project_id + 1, ids) == []
        assert docs_db.untagged_among(conn, project_id, []) == []


@pytest.mark.parametrize("query", ["card", "CARD", "file", "fi", "strasse", "STRASSE", "straße", "заказ", "café", "cafe",
                                   "états", "etats", "k cable", "100%", "the_r", "ü.txt", "u.txt", "doc-01", "#1", "nino",
                                   "niño", "LLEGO", "nguyen", "Nguyên", "ørsted", "orsted", "oeil", "lodz", "мои", "nothing like it",
                                   "\x00", "card\x00", "n'est", "N\u2019EST", "it\u2019s", '"urgent"', "d\u2019oeil", "'", '"', "it's",
                                   "اين", "4521", "مرحبا", "الشحنه", "שלום", "パスワード"])
# a NUL matched every text on SQLite (and was a 500 on PostgreSQL)
def test_search_finds_what_the_folded_texts_contain(listed, query):
    store, project_id, stored = listed
    # texts are compared folded (Unicode-normalised, case-folded, no accents on Latin letters) on both backends;
    # locations too on SQLite, while PostgreSQL's ILIKE folds their case and the accents come off both sides
    unaccent = str.maketrans(ACCENTED_LATIN, PLAIN_LATIN, COMBINING_ACCENTS)

    def in_location(location):
        if store.db.is_sqlite:
            return fold(query) in fold(location)
        return strip_accents(query).lower() in location.translate(unaccent).lower()

    expected = [d["location"] for d in stored if fold(query).translate(QUOTES) in fold(d["text"]).translate(QUOTES) or in_location(d["location"])]
    if query in ("nino", "niño", "etats", "LLEGO", "nguyen", "Nguyên", "orsted", "oeil", "lodz"):
        assert expected, "a spelling with other accents on its Latin letters finds the text"
    if query in ("n'est", "N\u2019EST", "it\u2019s", '"urgent"', "d\u2019oeil"):
        assert expected, "a straight or a typographic quote finds the other"
    if query in ("'", '"', "it's"):
        assert 0 < len(expected) < len(stored), "a quote is a quote, not any character (\"it's\" found \"it seems\")"
    if query in ("اين", "4521", "مرحبا", "الشحنه", "שלום", "パスワード"):
        assert expected, "what typing leaves out (Arabic and Hebrew marks, the hamza, Arabic-Indic digits, a zero-width space) is left out"
    if query == "мои":
        assert not expected, "marks on other scripts still count: й is not и"
    assert _page(store, project_id, DocumentFilter(search=query), 100, 0) == (expected, len(expected))


def test_the_digest_of_a_list_tells_lists_apart_that_count_and_sum_alike():
    # a review: 5 and 10 tagged while 7 and 8 became untagged left an "untagged" list's count and id sum as they were
    assert docs_db.ids_digest([5, 10]) != docs_db.ids_digest([7, 8])
    mix = docs_db.ID_MIX
    assert docs_db.ids_digest([10, 5]) == docs_db.ids_digest([5, 10]) == f"2:15:{5 * mix % 2**32 + 10 * mix % 2**32}"


def test_the_upgrade_stores_the_new_search_form_of_texts_it_changes(store):
    # migration 0010: a store folded before kept "أين" in its search form, so "اين" found nothing there
    from sqlalchemy import text

    from tagwise.storage.db import refold

    rows = [{"location": f"{i}.txt", "text": t, "language": "ar", "dataset": None, "labels": None}
            for i, t in enumerate(["أين طلبي", "plain", "café", "مرحبا", "\ufe83\ufef3\ufee6 \ufec1\ufee0\ufe92\ufef2"])]
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
        docs_db.insert_many(conn, project_id, rows)
        conn.execute(text("UPDATE documents SET search_text = text WHERE location = '0.txt'"))  # as the older fold stored it
        # ... and a text in Arabic presentation forms (copied from a PDF), which the older fold wrote as plain letters
        conn.execute(text("UPDATE documents SET search_text = 'أين طلبي' WHERE location = '4.txt'"))
    assert _page(store, project_id, DocumentFilter(search="اين"), 10, 0) == ([], 0)
    with store.db.write() as conn:
        assert refold(conn) == 2
        assert refold(conn) == 0
    assert _page(store, project_id, DocumentFilter(search="اين"), 10, 0) == (["0.txt", "4.txt"], 2)
