"""A training job's body (core.training.run) against the store: what it records, and when it waits."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tagwise.core import jobs, training
from tagwise.core.documents import import_project
from tagwise.storage import records
from tests.api.conftest import SINGLE, project_file
from tests.support.live_server import free_port


def test_a_training_failed_by_a_sweep_while_it_ran_stays_failed(ctx, banking):
    # a host cut off from the store for longer than the lease had its training failed by another
    # host's sweep; when it came back, the training recorded its model and the job read "succeeded"
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    with ctx.db.write() as conn:
        records.update_job(conn, job["id"], {"status": "running", "claimed_by": jobs.claimant()})
    swept = "The server or worker training it, on another host, sent no heartbeat for 60 s."

    def progress(percent: int) -> None:
        if percent >= 95:  # the model is about to be recorded: another host's sweep ends the job first
            jobs.fail(ctx, job["id"], swept)

    training.run(ctx, job["id"], progress)
    final = jobs.get(ctx, job["id"], "train")
    assert final["status"] == "failed" and final["errors"][0]["message"] == swept
    with ctx.db.read() as conn:
        assert records.list_models(conn, records.get_project(conn, "bank")["id"]) == []
    assert not any(Path(ctx.settings.models_dir).rglob("manifest.json"))  # its folder was not kept


def test_an_import_waits_for_the_projects_training_to_end(ctx, banking):
    # the training reads the documents when it starts: a file imported meanwhile was what it trained on (12 documents of
    # 3 classes instead of 300 of 20), and an empty one failed it
    import pytest

    from tagwise.errors import Conflict

    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"][:300]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    with pytest.raises(Conflict, match=f"The project bank is training \\(job {job['id']}\\), and an import replaces its documents"):
        import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"][:12]))
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"][300:302]), append=True)  # adds: as a studio upload
    jobs.request_cancel(ctx, job["id"])
    with ctx.db.write() as conn:
        jobs.cancel_in(conn, job["id"])
    assert import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"][:12]))["projectDocuments"] == 12


@pytest.mark.serial  # times it: make test runs it alone
def test_until_stored_waits_for_the_store_and_gives_up_on_anything_else():
    engine = create_engine(f"postgresql+psycopg://tagwise@127.0.0.1:{free_port()}/tagwise")
    calls = []

    def action() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            with engine.connect():  # the store is away: a real connection refused
                pass
        return "loaded"

    assert training.until_stored(action) == "loaded"
    assert len(calls) == 2 and calls[1] - calls[0] >= 1.9

    def broken() -> None:
        raise ValueError("a bug, not an outage")

    started = time.monotonic()
    try:
        training.until_stored(broken)
    except ValueError:
        assert time.monotonic() - started < 1
    else:
        raise AssertionError("a bug was retried")


def test_each_project_has_its_own_embedding_cache_and_it_goes_with_the_project(ctx, banking):
    # one cache for every project: each training loaded all of it (1.75 KB of memory per text any
    # project ever had) and a deleted project's texts stayed in it, findable by their hash
    from tagwise.core import projects
    from tagwise.ml.embedding_cache import EmbeddingCache

    shared = ctx.settings.cache_dir / "all-MiniLM-L6-v2-onnx-int8"  # what an older tagwise wrote
    shared.mkdir(parents=True)
    (shared / "old.npz").write_bytes(b"")
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "embedding"})
    training.run(ctx, job["id"], lambda _: None)
    mine = ctx.settings.project_cache_dir("bank")
    [encoder_dir] = [p for p in mine.iterdir() if p.is_dir()]
    [stored] = list(encoder_dir.glob("*.npz"))  # one file
    with ctx.db.read() as conn:
        project = records.get_project(conn, "bank")
        docs = records.list_documents(conn, project["id"])
    options = jobs.get(ctx, job["id"], "train")["payload"]["evaluationOptions"]
    trained_on = {d["text"] for d in training.split(docs, project["kind"], options)[0]}
    _, missing = EmbeddingCache(encoder_dir, 384).get_many(sorted(trained_on))
    assert missing == [] and stored.stat().st_size < 2 * 384 * 4 * len(trained_on)  # the training texts, and little else
    assert not shared.exists()
    projects.delete(ctx, "bank")
    assert not mine.exists()



def test_a_running_trainings_estimated_end_follows_its_pace():
    # it was always the last update + 30 s: a 20-minute training said "in 30 s" from start to end
    from datetime import datetime, timedelta

    from tagwise.storage.records import utcnow

    now = utcnow()
    job = {"id": "j", "status": "running", "percent": 50, "started_at": now - timedelta(seconds=100), "updated_at": now,
           "finished_at": None, "created_at": now - timedelta(seconds=101), "expires_at": now + timedelta(days=1),
           "warnings": [], "errors": [], "payload": {"modelLabel": "m", "trainingConfigVersion": "linear"}}
    end = datetime.fromisoformat(training.describe_job(job)["result"]["estimatedEndDateTime"])
    assert timedelta(seconds=95) < end - now < timedelta(seconds=110)  # half done in 100 s: about 100 s to go
    early = datetime.fromisoformat(training.describe_job({**job, "percent": 5})["result"]["estimatedEndDateTime"])
    assert timedelta(seconds=25) < early - now < timedelta(seconds=35)  # too early to tell from the pace


def test_the_note_on_texts_that_do_not_look_english_names_the_studio_page_as_its_navigation_does():
    # it sent users to "the studio's Classes page"; the navigation calls that page Schema
    from tagwise.core.training import _training_language

    texts = ["Wo ist meine Karte? Ich habe sie gestern verloren.", "Die Überweisung ist noch nicht angekommen."] * 5
    language, notes = _training_language({"multilingual": False, "language": "en"}, [{"text": t, "language": "en"} for t in texts])
    assert language == "en" and "the studio's Schema page" in notes[0] and "Classes page" not in notes[0]


def test_a_project_trained_on_a_fifth_or_more_in_another_language_is_multilingual_whatever_its_own():
    # a French project trained on French and German tickets warned every German ticket that its
    # model was "trained for 'fr' texts", while Evaluate scored German at 100%
    from tagwise.core.languages import warning
    from tagwise.core.training import _training_language

    tickets = [{"text": "Ma facture est fausse", "language": "fr"}] * 30 + [{"text": "Meine Rechnung ist falsch", "language": "de"}] * 20
    language, notes = _training_language({"multilingual": False, "language": "fr"}, tickets)
    assert language == "mul" and notes[0].startswith("20 of the 50 training documents declare another language than the project's (de (20))")
    assert warning(language, "use-multilingual", "Meine Rechnung ist falsch", "de") is None
    # a few documents in another language do not make it so, and the French model still warns of German; the training
    # says so (a German project with 150 of 851 in Spanish said nothing, then warned of every Spanish ticket)
    few = tickets[:30] + tickets[30:34]
    language, notes = _training_language({"multilingual": False, "language": "fr"}, few)
    assert language == "fr" and notes == [(
        "4 of the 34 training documents declare another language than the project's (de (4)), under the fifth that makes a "
        "training multilingual: the model is built for 'fr', and documents in those languages get a LanguageNotTrained "
        "warning when classified with their language given (en counts as none given). Mark the project multilingual (the Schema page, or multilingual: true) to build it for all of them.")]
    assert warning("fr", "use-multilingual", "Meine Rechnung ist falsch", "de")["code"] == "LanguageNotTrained"
    # regional spellings of the project's own language are that language
    assert _training_language({"multilingual": False, "language": "fr"}, [{"text": "Bonjour", "language": "fr-CA"}] * 5) == ("fr", [])


def test_languages_the_multilingual_encoder_does_not_know_are_named_in_a_training_note():
    # a Hebrew project's embedding model scored chance (0.333), and the advice was to tag more: the encoder gives
    # Hebrew texts nearly the same vector
    from tagwise.core.training import _unknown_to_encoder

    hebrew = [{"text": "החבילה לא הגיעה", "language": "he"}] * 12
    notes = _unknown_to_encoder({"multilingual": False, "language": "he"}, hebrew)
    assert len(notes) == 1 and notes[0].startswith("12 of the 12 training documents are in languages the multilingual sentence "
                                                   "encoder was not trained on (he (12); it knows ar, de, en,")
    mixed = hebrew[:4] + [{"text": "荷物が届きません", "language": "ja"}] * 8
    assert "(he (4);" in _unknown_to_encoder({"multilingual": True, "language": "ja"}, mixed)[0]
    assert _unknown_to_encoder({"multilingual": True, "language": "ja"}, mixed[4:]) == []  # all known: no note


def test_a_project_stored_with_a_code_read_otherwise_now_trains_as_its_language():
    # a project created "iw" (or "jp") before such codes were read as "he" ("ja"): its new documents came in as "he",
    # and the training took them for another language than the project's, and trained a multilingual model
    from tagwise.core.languages import warning
    from tagwise.core.training import _training_language

    hebrew = [{"text": "החבילה לא הגיעה", "language": "he"}] * 12
    assert _training_language({"multilingual": False, "language": "iw"}, hebrew)[0] == "iw"
    japanese = [{"text": "荷物が届きません", "language": "ja"}] * 12
    assert _training_language({"multilingual": False, "language": "jp"}, japanese) == ("jp", [])
    assert warning("jp", None, "荷物が届きません", "ja") is None and warning("iw", None, "שלום", "he") is None


def test_a_class_of_out_of_scope_examples_is_told_to_be_tagged_none():
    # clinc150 ships its out-of-scope queries as "oos": as a class, a threshold's None answers counted as wrong
    # for them, and the threshold table read as if every threshold only cost accuracy (70.4% at 99%, where the
    # same model with them tagged None scored 88.6%, catching 99.3%)
    from tagwise.core.training import _out_of_scope_class

    assert _out_of_scope_class(SINGLE, ["balance", "oos"])[0].startswith("The class 'oos' reads as out-of-scope examples: tag them None")
    assert "The classes 'Out of scope', 'off-topic' read" in _out_of_scope_class(SINGLE, ["Out of scope", "off-topic", "card"])[0]
    assert _out_of_scope_class(SINGLE, ["None", "balance"]) == [] and _out_of_scope_class("CustomMultiLabelClassification", ["oos"]) == []


def test_the_copy_check_reads_texts_as_the_models_do_whatever_their_width():
    # a half-width katakana copy of a training ticket is the same text to a model (its features are NFKC) and went unnoticed
    train = [{"location": "t1", "text": "カードが届きません", "labels": ["card"]}]
    test = [{"location": "x1", "text": "ｶｰﾄﾞが届きません", "labels": ["card"]}, {"location": "x2", "text": "返金してください", "labels": ["refund"]}]
    [note] = training._duplicates(train, test)
    assert note.startswith("1 of 2 test documents have the same text as a training document") and "x1 (as t1)" in note
