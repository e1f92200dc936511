"""Training: validate and queue a job, then (in a worker process) split, fit, evaluate, save."""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from tagwise.core import jobs
from tagwise.core.context import Context
from tagwise.core.evaluation import build_summary, document_extras, per_document_results, threshold_table
from tagwise.core.model_results import language_scores
from tagwise.core.models import artifact_dir, delete_folders, remove_unused
from tagwise.core.projects import require
from tagwise.core.timefmt import NO_EXPIRY_DATE, iso
from tagwise.core.validation import MULTI, check_name, listed, shown
from tagwise.errors import Conflict, InvalidArgument, store_unavailable
from tagwise.storage import document_records as docs_db
from tagwise.storage import records
from tagwise.storage.records import utcnow

MIN_DOCUMENTS = 10
SEED = 42
LATEST = "latest"
log = logging.getLogger("tagwise.jobs")


def config_versions() -> dict[str, str]:
    """trainingConfigVersion -> model recipe. ``latest`` and Azure's ``2022-05-01`` mean the default."""
    from tagwise.ml import DEFAULT_RECIPE, RECIPE_NAMES

    versions = {name: name for name in RECIPE_NAMES}
    versions["2022-05-01"] = DEFAULT_RECIPE
    return versions


def describe_config_versions() -> list[dict[str, str]]:
    return [{"trainingConfigVersion": v, "modelExpirationDate": NO_EXPIRY_DATE} for v in config_versions()]


def resolve_version(value: Any) -> str:
    from tagwise.ml import DEFAULT_RECIPE

    versions = config_versions()
    if value in (None, "", LATEST):
        return DEFAULT_RECIPE
    if not isinstance(value, str) or value not in versions:
        raise InvalidArgument(
            f"trainingConfigVersion {shown(value)} is unknown; use 'latest' or one of: {', '.join(versions)}.",
            target="trainingConfigVersion",
        )
    return versions[value]  # Azure's dated version names the default recipe


def parse_options(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidArgument("The training body must be a JSON object with modelLabel and trainingConfigVersion.")
    label = check_name(body.get("modelLabel"), "model")
    version = resolve_version(body.get("trainingConfigVersion"))
    generation = body.get("dataGenerationSettings") or {}
    if isinstance(generation, dict) and generation.get("enableDataGeneration"):
        raise InvalidArgument("Data generation with Azure OpenAI is not available in tagwise.", target="dataGenerationSettings")
    options = body.get("evaluationOptions") or {"kind": "percentage"}
    if not isinstance(options, dict):
        raise InvalidArgument("evaluationOptions must be an object.", target="evaluationOptions")
    kind = options.get("kind") or "percentage"
    kind = kind.lower() if isinstance(kind, str) else kind  # Azure reads its enums in any case ("Percentage")
    if kind == "manual":
        evaluation = {"kind": "manual"}
    elif kind == "percentage":
        # either one alone is enough (the other is what remains); neither: 80/20
        train_pct, test_pct = (_integral(options.get(key)) for key in ("trainingSplitPercentage", "testingSplitPercentage"))
        if isinstance(train_pct, str) or isinstance(test_pct, str):
            given = train_pct if isinstance(train_pct, str) else test_pct
            raise InvalidArgument(f"trainingSplitPercentage and testingSplitPercentage are numbers, not strings: send "
                                  f"{given.strip() or 80} without quotes, not {json.dumps(given)}.", target="evaluationOptions")
        if train_pct is None:
            train_pct = 100 - test_pct if _whole(test_pct) else 80
        if test_pct is None:
            test_pct = 100 - train_pct if _whole(train_pct) else 20
        if not all(_whole(v) and 0 < v < 100 for v in (train_pct, test_pct)) or train_pct + test_pct != 100:
            raise InvalidArgument(
                "trainingSplitPercentage and testingSplitPercentage must be whole numbers from 1 to 99 that add up to 100.",
                target="evaluationOptions",
            )
        evaluation = {"kind": "percentage", "trainingSplitPercentage": train_pct, "testingSplitPercentage": test_pct}
    else:
        raise InvalidArgument(f"evaluationOptions.kind {shown(kind)} is unknown; use 'percentage' or 'manual'.", target="evaluationOptions")
    version_name = body.get("trainingConfigVersion") or LATEST
    return {"modelLabel": label, "trainingConfigVersion": version, "requestedVersion": version_name, "evaluationOptions": evaluation}


RECORD_RETRY_S = 120.0  # how long a finished training waits for the store to record its model
OTHER_LANGUAGE_SHARE = 0.2  # of training documents declaring another language: the model is multilingual


def _training_language(project: dict[str, Any], train: list[dict]) -> tuple[str, list[str]]:
    """The language the model is built for (it picks the sentence encoder), and notes for the user.

    A multilingual project gets the multilingual encoder whatever its main language. So does a
    project when at least a fifth of its training documents declare another language than its own,
    and the model is built for ``mul``: a French project trained on German tickets too warned every
    German ticket that its model was "trained for 'fr' texts". An English project whose texts do not
    look English (common English words are 23-60% of the words of English data sets here, 8% of
    German, Spanish and French) gets a note saying so."""
    from tagwise.ml.encoder import ENGLISH_WORD_SHARE, english_word_share, is_english

    if project["multilingual"]:
        return "mul", []
    language = project["language"]
    declared = _other_languages(project, train)
    shown = ", ".join(f"{code} ({n:,})" for code, n in declared.most_common(3))
    others = f"{sum(declared.values()):,} of the {len(train):,} training documents declare another language than the project's ({shown})"
    if _mostly_other(declared, train):
        note = (f"{others}: the model was trained as a multilingual project's (where its recipe has sentence vectors, from "
                "the multilingual sentence encoder), and takes any of that encoder's 16 languages without a LanguageNotTrained warning.")
        return "mul", [note]
    notes = []
    if declared:  # under a fifth: built for the project's language alone, and each such document classified later warns
        notes.append(f"{others}, under the fifth that makes a training multilingual: the model is built for "
                     f"'{language}', and documents in those languages get a LanguageNotTrained warning when classified with "
                     "their language given (en counts as none given). "
                     "Mark the project multilingual (the Schema page, or multilingual: true) to build it for all of them.")
    if not is_english(language):
        return language, notes
    share = english_word_share(d["text"] for d in train)
    if share is not None and share < ENGLISH_WORD_SHARE:
        note = (f"The training texts do not look English (common English words are {share:.0%} of their words; "
                "23-60% in English data): if they are in another language, set the project's language or "
                "multilingual: true (the studio's Schema page, or PATCH the project), and the next training "
                "uses the multilingual sentence encoder.")
        return language, [*notes, note]
    return language, notes


def _other_languages(project: dict[str, Any], docs: list[dict]) -> Counter:
    """The languages other than the project's that documents declare, with how many declare each."""
    from tagwise.core.languages import primary

    return Counter(d["language"] for d in docs if d.get("language") and primary(d["language"]) != primary(project["language"]))


def _mostly_other(declared: Counter, docs: list[dict]) -> bool:
    return bool(docs) and sum(declared.values()) >= OTHER_LANGUAGE_SHARE * len(docs)


def next_encoder_language(ctx: Context, project_name: str) -> str:
    """What the next training builds for, by :func:`_training_language`'s rule over the project's tagged
    documents: ``mul`` (the multilingual encoder) or its language. The Schema page said "the next training
    uses the English sentence encoder" of a project whose documents declared German, Spanish and French."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        docs = docs_db.tagged_rows(conn, project["id"], with_text=False)
    return "mul" if project["multilingual"] or _mostly_other(_other_languages(project, docs), docs) else project["language"]


def _unknown_to_encoder(project: dict[str, Any], train: list[dict]) -> list[str]:
    """A note naming the training documents' languages the multilingual sentence encoder was not
    trained on (Hebrew, Persian, Hindi, ...): it gives such texts nearly the same vector (four
    unrelated Hebrew tickets: mean cosine 0.78, against 0.15 in Arabic), so the `embedding` recipe
    scored chance on a Hebrew project, and the advice was to tag more."""
    from tagwise.core.languages import ENCODER_LANGUAGES, primary

    counts = Counter(primary(d.get("language") or project["language"]) for d in train)
    unknown = [(code, n) for code, n in counts.most_common() if code not in ENCODER_LANGUAGES]
    if not unknown:
        return []
    shown = ", ".join(f"{code} ({n:,})" for code, n in unknown[:5])
    return [(f"{sum(n for _, n in unknown):,} of the {len(train):,} training documents are in languages the multilingual "
            f"sentence encoder was not trained on ({shown}; it knows {', '.join(sorted(ENCODER_LANGUAGES))}): its vectors say "
            "little about them, and the word features (TF-IDF) do the work. The `linear` recipe reads them as well, faster; "
            "the default recipe picks by cross-validation.")]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a percentage


def _integral(value: Any) -> Any:
    """A whole number written as a float (80.0, as some JSON writers put every number) as the int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _drop_shared_cache(ctx: Context) -> None:
    """Delete the embedding cache tagwise kept for every project together before it kept one per
    project (``cache/<encoder>/``): each training loaded all of it, 1.75 KB of memory per text any
    project ever had, and deleting a project left its texts' vectors there."""
    if ctx.settings.cache_dir.is_dir():
        for folder in ctx.settings.cache_dir.iterdir():
            if folder.is_dir() and folder.name != "projects":
                shutil.rmtree(folder, ignore_errors=True)


def start(ctx: Context, project_name: str, body: Any) -> dict[str, Any]:
    """Queue a training job after checking what can be checked now (so errors come back as 400s)."""
    options = parse_options(body)
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)  # two requests at once: one trains, the other gets the 409
        if job := jobs.training_of(conn, project):
            raise Conflict(f"The project {project_name} is already training (job {job['id']}); wait for it or cancel it.")
        # the split needs no text: reading 300,000 texts here held the store's write lock for 5.5 s
        docs = docs_db.tagged_rows(conn, project["id"], with_text=False)
        train, test = split(docs, project["kind"], options["evaluationOptions"])
        _check_trainable(project, train, test)
        return jobs.create(conn, "train", project_name, options)


def _check_trainable(project: dict[str, Any], train: list[dict], test: list[dict]) -> None:
    if len(train) + len(test) < MIN_DOCUMENTS:
        raise InvalidArgument(
            f"The project {project['name']} has {len(train) + len(test)} tagged documents; training needs at least {MIN_DOCUMENTS}.",
            target="documents",
        )
    if not test:
        raise InvalidArgument("No documents are in the test set: tag some with dataset 'Test' or use a percentage split.", target="evaluationOptions")
    if not train:
        raise InvalidArgument("No documents are in the training set.", target="evaluationOptions")
    if project["kind"] != MULTI and len({d["labels"][0] for d in train}) < 2:
        raise InvalidArgument("Training a single-label model needs documents of at least two classes in the training set.", target="documents")
    if project["kind"] == MULTI and not any(d["labels"] for d in train):
        raise InvalidArgument("No document of the training set has a class: a multi-label model needs some documents "
                              "tagged with at least one class (documents with none are fine next to them).", target="documents")


FEW_TRAINING_EXAMPLES = 3  # a class with fewer training documents can hardly be learned; the Overview flags under 10


def _few_examples(classes: list[str], train: list[dict[str, Any]]) -> list[str]:
    """A note on the classes this training has (almost) no examples of, which the model will
    rarely or never choose: the training page said nothing while the Overview warned."""
    counts = Counter(label for doc in train for label in doc["labels"])
    few = [f"{name} ({counts[name]})" for name in classes if counts[name] < FEW_TRAINING_EXAMPLES]
    if not few:
        return []
    note = (f"Trained on fewer than {FEW_TRAINING_EXAMPLES} documents of {listed(few, 10, 'more classes')}: the model can hardly "
            "learn them. Tag more of these.")
    return [note]


# folded names of a class that holds out-of-scope examples (clinc150 ships them as "oos")
OUT_OF_SCOPE_NAMES = frozenset({"oos", "outofscope", "outofdomain", "ood", "offtopic", "notinscope"})


def _out_of_scope_class(kind: str, classes: list[str]) -> list[str]:
    """A note on a single-label class that reads as out-of-scope examples: as a class of its own, a
    threshold's None answers count as wrong for them, and the Evaluate page's threshold table read as
    if every threshold only cost accuracy (a probe: 70.4% at 99% where the same model tagged None
    scored 88.6%, catching 99.3% of them)."""
    if kind == MULTI:
        return []
    found = [name for name in classes if "".join(ch for ch in name.casefold() if ch.isalnum()) in OUT_OF_SCOPE_NAMES]
    if not found:
        return []
    which = f"The class {found[0]!r} reads" if len(found) == 1 else f"The classes {listed([repr(n) for n in found], 3)} read"
    return [(f"{which} as out-of-scope examples: tag them None instead (Azure "
            "CLU's name for out of scope). A None answer, the model's or a confidence threshold's, then counts as right for them, "
            "and the threshold table shows how many a threshold catches; as a class of their own, a threshold's None answers "
            "count as wrong, as if a threshold only cost accuracy.")]


_NOT_WORDS = re.compile(r"[^\w\s]+")  # punctuation and symbols ("Where's my card?" and "wheres my card" are one text)


def _same_text_key(text: str) -> str:
    """A text as the copy check compares it: without case, spacing, punctuation and symbols (a text
    of those only: without case and spacing). Without any spaces, so that "top-up" (its hyphen
    dropped) and "top up" are one text: a test copy that differed so went unnoticed."""
    folded = (text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)).casefold()  # as the
    # models read it: a half-width katakana copy of a training ticket went unnoticed
    return "".join(_NOT_WORDS.sub("", folded).split()) or "".join(folded.split())


def _without_numbers(key: str) -> str:
    """A :func:`_same_text_key` without its numbers, for the copy check: "card not received, ticket
    48213" and "... ticket 51120" are one text to a model (a key of numbers only stays as it is)."""
    return _NUMBERS.sub("", key) or key


_NUMBERS = re.compile(r"\d+")


def _duplicates(train: list[dict[str, Any]], test: list[dict[str, Any]]) -> list[str]:
    """Notes on texts that appear twice (compared by :func:`_same_text_key`): a test document that
    is also a training document scores what the model has seen, not how it does on new text (a
    copy may differ in its numbers too: ticket ids appended to copied texts scored 1.000 with a
    note naming 5 copies of 20,000); the same text under two tags teaches nothing."""
    keys = {id(doc): _same_text_key(doc["text"]) for doc in train + test}  # once each: 50,000 tickets are many keys
    notes = []
    seen = {_without_numbers(keys[id(d)]): d["location"] for d in train}
    if copies := [(d["location"], seen[found]) for d in test if (found := _without_numbers(keys[id(d)])) in seen]:
        examples = listed([f"{mine} (as {theirs})" for mine, theirs in copies], 3, "more")
        notes.append(f"{len(copies):,} of {len(test):,} test documents have the same text as a training document (ignoring case, "
                     f"spacing, punctuation and numbers): {examples}. The evaluation scores them as seen text, so it overstates how "
                     "the model does on new text. Remove the copies (forwards and resends of one email are copies too).")
    tags: dict[str, dict[tuple[str, ...], str]] = defaultdict(dict)  # text -> its tag sets, each with a document that has it
    for doc in train + test:
        tags[keys[id(doc)]].setdefault(tuple(sorted(doc["labels"])), doc["location"])
    if conflicting := [found for found in tags.values() if len(found) > 1]:
        def tagged(labels: tuple[str, ...]) -> str:
            return " + ".join(labels) if labels else "no class"

        examples = listed([" vs ".join(f"{location} ({tagged(labels)})" for labels, location in found.items()) for found in conflicting],
                          3, "more")
        notes.append(f"{len(conflicting):,} text{'s are' if len(conflicting) > 1 else ' is'} tagged differently in different documents: "
                     f"{examples}. Give each text one tag.")
    return notes


def _past_window(model: Any, train: list[dict[str, Any]]) -> list[str]:
    """A note when training documents run past what the model's sentence encoder reads."""
    from tagwise.ml.embedding import past_window

    cut, window = past_window(model, [d["text"] for d in train])
    if not cut.any():
        return []
    # the ensemble's TF-IDF features read the whole text; the embedding recipe has nothing else
    whole = " (the ensemble's word features still read them whole)" if _recipe_of(model) == "ensemble" else ""
    return [(f"{int(cut.sum()):,} of {len(train):,} training documents are longer than the sentence encoder reads ({window:,} "
             f"word pieces, about {4 * window:,} characters of English): it sees only their start{whole}. Put what decides "
             "the class first, or cut quoted replies, signatures and logs; classifying such a document carries a "
             "DocumentTruncated warning.")]


def _recipe_of(model: Any) -> str | None:
    """The recipe that made ``model``: for ``auto``, the one it chose."""
    return getattr(getattr(model, "model_", model), "recipe_name", None)


def split(docs: list[dict[str, Any]], kind: str, evaluation: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Tagged documents into (train, test): by each document's dataset, or stratified and seeded.

    Both come in location order, whichever the split: not the order they were imported in nor the
    order of a document's classes. The model's cross-validation folds follow the row order, so the
    same documents always give the same model and evaluation, also after an export with
    ``trainedModelLabel`` is imported and trained with the manual split."""
    tagged = sorted((d for d in docs if d["labels"] is not None and (kind == MULTI or d["labels"])), key=lambda d: d["location"])
    if evaluation["kind"] == "manual":
        return [d for d in tagged if d["dataset"] != "Test"], [d for d in tagged if d["dataset"] == "Test"]
    # multi-label: stratified by the document's rarest class, so a rare class that always comes with a
    # common one (urgent, always with card) still gets its test documents; ties by name
    frequency = Counter(label for doc in tagged for label in set(doc["labels"]))
    groups: dict[str, list[dict]] = defaultdict(list)
    for doc in tagged:
        groups[min(doc["labels"], key=lambda label: (frequency[label], label)) if doc["labels"] else ""].append(doc)
    rng = random.Random(SEED)
    fraction = evaluation["testingSplitPercentage"] / 100
    train, test = [], []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda d: d["location"])
        rng.shuffle(group)
        n_test = round(len(group) * fraction) if len(group) > 1 else 0
        n_test = min(max(n_test, 1 if len(group) >= 2 else 0), len(group) - 1)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
    # in location order, as the manual split gives them: exporting the model's data and training it
    # with the manual split then makes the same folds, so the same model
    return sorted(train, key=lambda d: d["location"]), sorted(test, key=lambda d: d["location"])


def run(ctx: Context, job_id: str, progress: Callable[[int], None]) -> None:
    """The job body (runs in a worker process): everything it needs is reopened from ids."""
    from tagwise.ml import build_model, save_model

    started = time.monotonic()

    def load() -> tuple[dict, dict, list[dict]]:
        job = jobs.get(ctx, job_id, "train")
        with ctx.db.read() as conn:
            project = require(conn, job["project_name"])
            return job, project, records.list_documents(conn, project["id"])

    # a store that is away as the training starts (a PostgreSQL restart) is waited for, as at its end
    job, project, docs = until_stored(load)
    options = job["payload"]
    multi = project["kind"] == MULTI
    train, test = split(docs, project["kind"], options["evaluationOptions"])
    _check_trainable(project, train, test)
    labels = project["classes"]

    def y(rows: list[dict]) -> list:
        return [r["labels"] for r in rows] if multi else [r["labels"][0] for r in rows]

    language, notes = _training_language(project, train)
    recipe = options["trainingConfigVersion"]
    from tagwise.ml.encoder import is_english

    if recipe != "linear" and not is_english(language):  # the multilingual encoder's languages; linear reads no vectors
        notes += _unknown_to_encoder(project, train)
    notes += _few_examples(labels, train)
    notes += _out_of_scope_class(project["kind"], labels)
    notes += _duplicates(train, test)
    params = {"time_budget_s": ctx.settings.auto_time_budget_s} if recipe == "auto" else {}
    cache = ctx.settings.project_cache_dir(project["name"])
    _drop_shared_cache(ctx)
    model = build_model(recipe, multi_label=multi, seed=SEED, language=language, cache_dir=cache, **params)
    fitted_since = time.time() - 1  # an encoder's cache this fit read or wrote is touched after this
    model.fit([d["text"] for d in train], y(train), progress=lambda f: progress(int(5 + 80 * min(max(f, 0.0), 1.0))))
    from tagwise.ml.embedding_cache import compact

    # the next training reads these, and nothing of texts gone since, nor of an encoder this fit did not use
    compact(cache, [d["text"] for d in train], used_since=fitted_since)
    notes += _past_window(model, train)
    evaluated_from = utcnow()  # the job's trainingStatus ends and its evaluationStatus starts here
    progress(86)
    from tagwise.core.predictors import decide, thresholds_of

    threshold, class_set = thresholds_of(project["settings"])
    proba = model.predict_proba([d["text"] for d in test])
    predicted = decide(model, proba, threshold, class_set)
    y_pred = [p.labels for p in predicted] if multi else [p.labels[0] for p in predicted]
    summary = build_summary(project["kind"], options["evaluationOptions"], y(test), y_pred, labels, proba, model)
    if notes:
        summary["tagwise"]["notes"] = notes
    trained_on = Counter(label for doc in train for label in doc["labels"])  # what Evaluate's Train column shows
    summary["tagwise"]["trainDocumentsPerClass"] = {label: trained_on.get(label, 0) for label in labels}
    if multi and getattr(model, "thresholds_", None) is not None:  # each class is chosen at its own probability
        summary["tagwise"]["classThresholds"] = {str(c): round(float(t), 6) for c, t in zip(model.classes_, model.thresholds_, strict=True)}
    # the project's threshold the evaluation was scored at: single-label, None below it (counted as wrong);
    # multi-label, the floor under each class's threshold
    summary["tagwise"]["confidenceThreshold"] = threshold
    # and the classes whose threshold the project set in place of the tuned one: of the model's classes only (a class
    # it never trained on has no tuned threshold, and "scored with grief 0.1 in place of the tuned one" was not so)
    known = {str(c) for c in model.classes_}
    if multi and (applied := {c: t for c, t in (class_set or {}).items() if c in known}):
        summary["tagwise"]["projectClassThresholds"] = applied
    if not multi:
        # what always answering the test set's commonest class would score: the bar a skewed project's model must clear
        counts = Counter(y(test))
        commonest, count = counts.most_common(1)[0]
        summary["tagwise"]["majorityBaseline"] = {"class": commonest, "accuracy": count / len(test)}
        if (tied := sum(1 for n in counts.values() if n == count)) > 1:  # banking77's 77 classes of 40: none is the commonest
            summary["tagwise"]["majorityBaseline"]["tiedClasses"] = tied
        # the same test set at other thresholds: the project may move its threshold without retraining
        summary["tagwise"]["thresholds"] = threshold_table([str(c) for c in model.classes_], proba, y(test), also=[threshold])
    results = per_document_results(project, test, [p.labels for p in predicted],
                                   document_extras(project["kind"], [d["labels"] for d in test], predicted))
    if (by_language := language_scores(results)) is not None:  # a test set in several languages: how each fares
        summary["tagwise"]["languages"] = by_language
    progress(95)

    trained_at = utcnow()
    model_id = f"{options['modelLabel']}-{trained_at.strftime('%Y%m%dT%H%M%S')}-{job_id[:8]}"
    artifact = artifact_dir(ctx, project["name"], model_id)
    metadata = {"project": project["name"], "modelLabel": options["modelLabel"], "modelId": model_id, "jobId": job_id,
                "trainedAt": iso(trained_at), "trainDocuments": len(train), "testDocuments": len(test)}
    save_model(model, artifact, metadata)
    duration = time.monotonic() - started

    def record() -> None:
        with ctx.db.write() as conn:
            current = records.get_job(conn, job_id)
            if current is None or current["cancel_requested"]:
                shutil.rmtree(artifact, ignore_errors=True)
                return
            if current["status"] in jobs.TERMINAL:  # a sweep ended it meanwhile (no heartbeat for the lease): that stands
                shutil.rmtree(artifact, ignore_errors=True)
                log.warning("training job %s finished after it was marked %s; its model is not kept", job_id, current["status"])
                return
            project_now = records.get_project(conn, project["name"], lock=True)  # as deploys and deletes lock it: one at a time
            # SQLite may give a deleted project's id to the next one: the creation time tells them apart
            if project_now is None or (project_now["id"], project_now["created_at"]) != (project["id"], project["created_at"]):
                shutil.rmtree(artifact, ignore_errors=True)
                raise InvalidArgument(f"The project {project['name']} was deleted while training.")
            previous = records.get_model_ref(conn, project["id"], options["modelLabel"])
            records.upsert_model(conn, project["id"], {
                "label": options["modelLabel"], "model_id": model_id, "recipe": options["trainingConfigVersion"],
                "config_version": options["trainingConfigVersion"], "trained_at": trained_at, "duration_s": duration,
                "artifact": str(artifact), "evaluation": summary, "evaluation_results": results,
            })
            records.put_model_snapshot(conn, project["id"], options["modelLabel"], model_id, snapshot(labels, train, test))
            records.update_project(conn, project["id"], {"last_trained_at": trained_at})
            result = dict(job["result"] or {}, modelId=model_id, evaluationStartDateTime=iso(evaluated_from))
            warnings = [{"code": "TrainingDataWarning", "message": note} for note in notes]
            records.update_job(conn, job_id, {"status": "succeeded", "percent": 100, "finished_at": utcnow(), "result": result,
                                              "warnings": warnings})
            # the label's previous model, unless a deployment still serves it (until it is deployed again)
            unused = remove_unused(ctx, conn, project, {previous["model_id"]} if previous else set())
        delete_folders(unused)

    # the model is saved; a store that is away for a while (a PostgreSQL restart or failover) must not
    # lose it: the end is recorded once the store answers again, for up to RECORD_RETRY_S
    try:
        until_stored(record)
    except Exception as exc:
        if store_unavailable(exc):  # never recorded: the folder would be an orphan
            shutil.rmtree(artifact, ignore_errors=True)
        raise


T = TypeVar("T")


def until_stored(action: Callable[[], T]) -> T:
    """``action()``, again every 2 s while the store cannot be reached, for up to RECORD_RETRY_S."""
    deadline = time.monotonic() + RECORD_RETRY_S
    while True:
        try:
            return action()
        except Exception as exc:
            if not store_unavailable(exc) or time.monotonic() > deadline:
                raise
            time.sleep(2.0)


def snapshot(classes: list[str], train: list[dict], test: list[dict]) -> dict[str, Any]:
    """What a model was trained and tested on, as an export of it gives it back: each document's
    ``dataset`` is the set the split put it in, so importing it and training with the manual split
    makes the same model again."""
    return {"classes": list(classes),
            "documents": [{"location": d["location"], "language": d["language"], "dataset": dataset, "labels": d["labels"], "text": d["text"]}
                          for dataset, rows in (("Train", train), ("Test", test)) for d in rows]}


def _estimated_end(job: dict[str, Any], percent: int) -> Any:
    """When a running training should end, from its pace so far: elapsed x 100 / percent, once it
    is 10% in (before, the encoder's load and the features dominate), and never in the past.
    It was always the last update + 30 s: a 20-minute training said "in 30 s" throughout."""
    now = utcnow()
    if percent < 10:
        return max(job["updated_at"], now) + timedelta(seconds=30)
    elapsed = now - job["started_at"]
    return max(job["started_at"] + elapsed * (100 / percent), now + timedelta(seconds=5))


def describe_job(job: dict[str, Any]) -> dict[str, Any]:
    """The Azure training job state; ``result`` is present from the start."""
    out = jobs.describe(job)
    status = job["status"]
    percent = int(job["percent"] or 0)
    options = job["payload"]
    train_status = {"percentComplete": min(percent * 100 // 85, 100), "status": "notStarted"}
    eval_status = {"percentComplete": 0, "status": "notStarted"}
    if job["started_at"]:
        train_status["startDateTime"] = iso(job["started_at"])
    if status == "running":
        train_status["status"] = "running" if percent < 85 else "succeeded"
        if percent >= 85:
            eval_status.update(status="running", percentComplete=min((percent - 85) * 100 // 15, 99))
    elif status in ("succeeded",):
        # jobs finished before the evaluation's start was recorded give the end for both
        evaluated_from = (job["result"] or {}).get("evaluationStartDateTime") or iso(job["finished_at"])
        train_status.update(status="succeeded", percentComplete=100, endDateTime=evaluated_from)
        eval_status.update(status="succeeded", percentComplete=100, startDateTime=evaluated_from,
                           endDateTime=iso(job["finished_at"]))
    elif status in ("failed", "cancelled", "cancelling"):
        train_status["status"] = status if percent < 85 else "succeeded"
        eval_status["status"] = status if percent >= 85 else "notStarted"
        if job["finished_at"]:  # when it ended: the step it ended in gets the time
            (eval_status if percent >= 85 else train_status)["endDateTime"] = iso(job["finished_at"])
    result: dict[str, Any] = {
        "modelLabel": options["modelLabel"],
        "trainingConfigVersion": options["trainingConfigVersion"],
        "trainingStatus": train_status,
        "evaluationStatus": eval_status,
    }
    if status in ("notStarted", "running") and job["started_at"]:
        result["estimatedEndDateTime"] = iso(_estimated_end(job, percent))
    elif job["finished_at"]:  # an ended job's estimate is when it ended
        result["estimatedEndDateTime"] = iso(job["finished_at"])
    out["result"] = result
    return out
