"""Classification at run time: the asynchronous analyze-text jobs and the synchronous route."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from tagwise.core import jobs
from tagwise.core.context import Context
from tagwise.core.deployments import lookup_deployment
from tagwise.core.languages import model_language
from tagwise.core.languages import warning as language_warning
from tagwise.core.predictors import Prediction, decide, thresholds_of
from tagwise.core.timefmt import iso
from tagwise.core.validation import MULTI, PROJECT_KINDS, blank, language_code, lone_surrogate, project_kind, shown
from tagwise.errors import InvalidArgument, ModelUnreadable, PayloadTooLarge, TagwiseError, TooManyRequests
from tagwise.storage import records
from tagwise.storage.records import utcnow

log = logging.getLogger("tagwise.jobs")
RESULT_KIND = {kind: f"{kind}LROResults" for kind in PROJECT_KINDS}
SERVED_KEYS = ("trainedModelLabel", "modelId")  # which model answered, in classify_documents' results
# lookup_deployment's (project, deployment, model id, artifact), and the model loaded from it
Served = tuple[dict[str, Any], dict[str, Any], str, Path, Any]


def classify(ctx: Context, project_name: str, deployment_name: str, texts: list[str]) -> tuple[dict[str, Any], list[Prediction]]:
    """Classify texts with a deployment's model. Returns (project, predictions)."""
    project, _, predictions = classify_served(ctx, project_name, deployment_name, texts)
    return project, predictions


def classify_served(ctx: Context, project_name: str, deployment_name: str, texts: list[str],
                    languages: list[str | None] | None = None, served_by: Served | None = None) -> tuple[dict[str, Any], dict[str, str], list[Prediction]]:
    """:func:`classify`, also saying which model answered: (project, ``{"trainedModelLabel",
    "modelId"}`` the deployment served at that moment, predictions). ``languages``: what each
    document declares (None: nothing), for a warning when the model was not trained for it.
    ``served_by``: the deployment and its model as :func:`serving` found them earlier (an analyze
    job looks each deployment up once, as it starts), else they are looked up now."""
    project, deployment, model_id, _, model = served_by or serving(ctx, project_name, deployment_name)
    served = {"trainedModelLabel": deployment["model_label"], "modelId": model_id}
    if not texts:
        return project, served, []
    decided = decide(model, model.predict_proba(texts), *thresholds_of(project["settings"]))
    return project, served, annotate(model, texts, decided, languages)


def serving(ctx: Context, project_name: str, deployment_name: str) -> Served:
    """What a deployment serves now: its project, deployment, model id and folder, and the model loaded.
    A model whose folder went while it was loaded because its project or deployment was deleted, or
    redeployed, meanwhile (another process did it) is said so: it was a 500 asking the operator to
    restore a backup (a race probe: 1 in 1,363 requests around project deletes)."""
    project, deployment, model_id, artifact = lookup_deployment(ctx, project_name, deployment_name)
    try:
        return project, deployment, model_id, artifact, ctx.predictors.get(model_id, artifact)
    except ModelUnreadable:
        project, deployment, now_id, artifact = lookup_deployment(ctx, project_name, deployment_name)  # deleted: 404
        if now_id == model_id:
            raise
        return project, deployment, now_id, artifact, ctx.predictors.get(now_id, artifact)  # redeployed: the new one


def annotate(model: Any, texts: list[str], predictions: list[Prediction],
             languages: list[str | None] | None = None) -> list[Prediction]:
    """``predictions`` with what the caller should know of each text: that the sentence encoder
    read only its start (``DocumentTruncated``), and that the model was not trained for its
    language (``LanguageNotTrained``; ``languages``: what each document declares, None: nothing)."""
    from tagwise.ml.embedding import past_window  # lazily, as the model itself: it brings in the ml package

    cut, window = past_window(model, texts)
    built_for, backend = model_language(model)
    annotated = []
    for prediction, long, text, declared in zip(predictions, cut, texts, languages or [None] * len(texts), strict=True):
        note = language_warning(built_for, backend, text, declared)
        annotated.append(replace(prediction, read_tokens=window if long else None, language_warning=note) if long or note else prediction)
    return annotated


def truncation_warning(read_tokens: int) -> dict[str, str]:
    """Azure's ``DocumentTruncated`` warning, for a document longer than the sentence encoder reads."""
    return {"code": "DocumentTruncated",
            "message": f"The document is longer than the sentence encoder reads ({read_tokens:,} word pieces, about "
                       f"{4 * read_tokens:,} characters of English): its class was decided mostly by its start. "
                       "Put what decides the class first, or cut quoted replies, signatures and logs."}


def document_result(doc_id: str, kind: str, prediction: Prediction, top: int | None = None) -> dict[str, Any]:
    """One document's result. Single-label: the chosen class, then the next likeliest up to ``top``
    entries in all. Multi-label: the chosen classes, likeliest first, at most ``top`` of them; never a
    class the model did not choose (padding made "no class" look like three weak predictions)."""
    chosen = [(label, prediction.score_of(label)) for label in prediction.labels]
    if kind == MULTI:
        chosen = sorted(chosen, key=lambda item: -item[1])[:top or None]
    else:
        chosen = chosen[:1]
        if top and top > len(chosen):
            picked = {label for label, _ in chosen}
            chosen += [(c, s) for c, s in prediction.ranked(top) if c not in picked][: top - len(chosen)]
    return {"id": doc_id, "class": [{"category": c, "confidenceScore": round(s, 6)} for c, s in chosen],
            "warnings": warnings_of(prediction)}


def warnings_of(prediction: Prediction) -> list[dict[str, str]]:
    """A document's Azure warnings: ``DocumentTruncated``, ``LanguageNotTrained``."""
    return (([truncation_warning(prediction.read_tokens)] if prediction.read_tokens else [])
            + ([prediction.language_warning] if prediction.language_warning else []))


def document_error(doc_id: str, message: str, inner_code: str = "InvalidDocument") -> dict[str, Any]:
    return {"id": doc_id, "error": {"code": "InvalidArgument", "message": "Invalid document in request.",
                                    "innererror": {"code": inner_code, "message": message}}}


def check_documents(raw: Any, max_documents: int, max_total_chars: int | None,
                    field: str = "analysisInput.documents") -> list[dict[str, Any]]:
    """Request-level checks: a non-empty list of {id, text}, unique ids, within the limits
    (``field``: where the request carries them, for the error message)."""
    if not isinstance(raw, list) or not raw:
        raise InvalidArgument(f"The request has no documents: send {field} as a non-empty list.", inner_code="MissingInputDocuments")
    if len(raw) > max_documents:
        raise InvalidArgument(
            f"The request has {len(raw)} documents; the limit is {max_documents} per request. Split it into several requests.",
            inner_code="InvalidDocumentBatch",
        )
    docs, seen = [], set()
    for index, doc in enumerate(raw):
        if not isinstance(doc, dict):
            raise InvalidArgument(f'{field}[{index}] must be an object with "id" and "text" ({{"id": "1", "text": "..."}}), '
                                  f"not {shown(doc)}.", inner_code="InvalidDocument", target=f"{field}[{index}]")
        if not isinstance(doc.get("id"), str) or not doc["id"]:
            raise InvalidArgument(f"{field}[{index}] needs a string 'id'.", inner_code="InvalidDocument", target=f"{field}[{index}].id")
        if doc["id"] in seen:
            raise InvalidArgument(f"The document id {shown(doc['id'])} is used twice; ids must be unique.", inner_code="InvalidDocument")
        seen.add(doc["id"])
        text = doc.get("text")
        if text is not None and not isinstance(text, str):
            raise InvalidArgument(f"The document {shown(doc['id'])}: 'text' must be a string.", inner_code="InvalidDocument")
        docs.append({"id": doc["id"], "text": text or "", "language": doc.get("language")})
    total = sum(len(d["text"]) for d in docs)
    if max_total_chars is not None and total > max_total_chars:
        raise PayloadTooLarge(
            f"The documents have {total:,} characters in all; the limit is {max_total_chars:,} per request. Split them into several requests.",
            inner_code="InvalidDocumentBatch",
        )
    return docs


def text_records(characters: int) -> int:
    """Azure's transactions for a document: one text record per started 1,000 characters.

    >>> text_records(12), text_records(1_000), text_records(124_000)
    (1, 1, 124)
    """
    return max(1, -(-characters // 1_000))


def empty_reason(text: str) -> str:
    """A document's error when its text is :func:`~tagwise.core.validation.blank`."""
    if text.strip():
        return "Document text is empty: it has only invisible characters (such as zero-width spaces)."
    return "Document text is empty."


def document_problem(doc: dict[str, Any], limit: int) -> dict[str, Any] | None:
    """Why a document (``{"id", "text", "language"?}``) cannot be classified, as its per-document
    error; None when it can. The one rule of every engine: ``:classify``, analyze jobs and Ray."""
    text, language = doc["text"], doc.get("language")
    if blank(text):
        return document_error(doc["id"], empty_reason(text))
    if len(text) > limit:
        return document_error(doc["id"], f"Document text is too long: {len(text):,} characters, the limit is {limit:,}.")
    if reason := lone_surrogate(text):  # only from Python callers: the API refuses the body
        return document_error(doc["id"], f"Document text is not valid Unicode: {reason}.")
    if language not in (None, "") and language_code(language) is None:
        # the model reads any language; a code that is no language code at all is a caller's mistake (Azure's answer)
        return document_error(doc["id"], f"The language {shown(language)} is not a language code such as 'en' or 'pt-BR'.",
                              "UnsupportedLanguageCode")
    return None


def classify_documents(ctx: Context, project_name: str, deployment_name: str, docs: list[dict[str, Any]], top: int | None = None,
                       served_by: Served | None = None) -> dict[str, Any]:
    """Classify valid documents, report the others as per-document errors (input order kept)."""
    valid, errors = [], []
    for index, doc in enumerate(docs):
        if problem := document_problem(doc, ctx.settings.max_document_characters):
            errors.append(dict(problem, index=index))
        else:
            valid.append((index, doc))
    project, served, predictions = classify_served(ctx, project_name, deployment_name, [d["text"] for _, d in valid],
                                                   [language_code(d.get("language")) for _, d in valid], served_by)
    documents = [dict(document_result(d["id"], project["kind"], p, top), index=i) for (i, d), p in zip(valid, predictions, strict=True)]
    return {"projectName": project_name, "deploymentName": deployment_name, **served, "documents": documents, "errors": errors,
            "kind": project["kind"]}


# -- asynchronous jobs --------------------------------------------------------------------------

# Retry-After of a key past its cap: 2 s per job it has waiting or running (one of the maximum size
# takes a few seconds on 2 cores), at most 30 s: azure-core waits that long, 3 times, then raises
PENDING_RETRY_AFTER_S, PENDING_RETRY_AFTER_MAX_S = 2, 30


def submit(ctx: Context, body: Any, key_id: str | None = None) -> dict[str, Any]:
    """Queue an analyze job. ``key_id``: the API key that sent it, whose unfinished jobs are limited
    to ``TAGWISE_MAX_PENDING_JOBS_PER_KEY`` (analyze jobs run first come, first served)."""
    if not isinstance(body, dict):
        raise InvalidArgument("The body must be a JSON object with analysisInput and tasks.", inner_code="InvalidRequestBodyFormat")
    analysis_input = body.get("analysisInput") or {}
    if not isinstance(analysis_input, dict):
        raise InvalidArgument('analysisInput must be an object: {"documents": [{"id": "1", "text": "..."}]}.',
                              inner_code="MissingInputDocuments", target="analysisInput")
    docs = check_documents(analysis_input.get("documents"), ctx.settings.max_documents_per_request, ctx.settings.max_characters_per_request)
    tasks = body.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise InvalidArgument("The request has no tasks: add a CustomSingleLabelClassification or CustomMultiLabelClassification task.")
    if len(tasks) > ctx.settings.max_tasks_per_request:
        raise InvalidArgument(f"The request has {len(tasks)} tasks; the limit is {ctx.settings.max_tasks_per_request} "
                              "(TAGWISE_MAX_TASKS_PER_REQUEST): send the others in another request.", target="tasks")
    clean, named = [], {}
    for index, task in enumerate(tasks):
        given = task.get("kind") if isinstance(task, dict) else None
        if (kind := project_kind(given)) is None:  # any case, as a project's kind
            raise InvalidArgument(f"tasks[{index}].kind {shown(given)} is not supported: use {' or '.join(PROJECT_KINDS)}.",
                                  target=f"tasks[{index}].kind")
        params = task.get("parameters") or {}
        names = [params.get(key) for key in ("projectName", "deploymentName")] if isinstance(params, dict) else []
        if len(names) != 2 or not all(isinstance(n, str) and n for n in names):
            raise InvalidArgument(f"tasks[{index}].parameters needs projectName and deploymentName as strings.",
                                  target=f"tasks[{index}].parameters")
        name = _task_name(task, index, named)
        named[name] = index
        clean.append({"taskName": name, "kind": kind, "projectName": params["projectName"], "deploymentName": params["deploymentName"]})
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise InvalidArgument("displayName must be a string.", target="displayName")
    payload = {"displayName": display_name, "documents": docs, "tasks": clean}
    with ctx.db.write() as conn:
        limit = ctx.settings.max_pending_jobs_per_key
        if key_id is not None and limit and (pending := records.count_unfinished(conn, "analyze", key_id)) >= limit:
            raise TooManyRequests(f"This API key has {pending:,} analyze jobs waiting or running; the limit is {limit:,} "
                                  "(TAGWISE_MAX_PENDING_JOBS_PER_KEY), so that one client cannot hold up the others' jobs. "
                                  "Send this one when one of them has finished.",
                                  retry_after=min(PENDING_RETRY_AFTER_MAX_S, PENDING_RETRY_AFTER_S * pending))
        return jobs.create(conn, "analyze", None, payload, key_id=key_id, ttl=timedelta(seconds=ctx.settings.analyze_job_ttl_s))


def _task_name(task: dict[str, Any], index: int, named: dict[str, int]) -> str:
    """The name a task's results are echoed under: its taskName, or its index when it has none.
    The SDKs find an action's results by that name, so two tasks may not share one."""
    if "taskName" not in task:
        name = str(index)
    elif isinstance(task["taskName"], str):
        name = task["taskName"]
    else:
        raise InvalidArgument(f"tasks[{index}].taskName must be a string, not {shown(task['taskName'])}.", target=f"tasks[{index}].taskName")
    if name in named:
        raise InvalidArgument(f"tasks[{index}] and tasks[{named[name]}] are both named {shown(name)}; task names must be unique "
                              "(a task without a taskName is named by its index).", target=f"tasks[{index}].taskName")
    return name


def run_job(ctx: Context, job_id: str, tasks_ended: Callable[[list[str]], None] | None = None, *,
            claimant: str | None = None) -> int:
    """Run every task of an analyze job the caller has claimed; a task that cannot run fails alone.
    Returns how many documents it classified (those of every task that ran; none when it was cancelled meanwhile).
    ``tasks_ended`` is told how each task ended (``succeeded``, ``failed``, ``cancelled``) once that is recorded.
    ``claimant``: the runner that claimed it; its results are recorded only while the job is still that
    runner's (a stopping runner hands back what it has not finished, and another runner runs it)."""
    started = time.monotonic()
    with ctx.db.read() as conn:
        job = records.get_job(conn, job_id)
    # cancelled between its claim and now: "cancelling", which only this run ends (it stayed so for good)
    if job is None or job["status"] not in ("running", "cancelling"):
        return 0
    payload = job["payload"]
    # Each deployment the tasks name is looked up once, now: two tasks naming one deployment were
    # answered by two models when a deploy landed between them. A job is answered by what each
    # deployment serves when the job starts (also a job queued before a deploy, or run again after a restart).
    served: dict[tuple[str, str], Served | TagwiseError] = {}
    for task in payload["tasks"]:
        pair = (task["projectName"], task["deploymentName"])
        if pair not in served:
            try:  # the model loaded now too: a redeploy of a retrained label while the job runs deletes its folder
                served[pair] = serving(ctx, *pair)
            except TagwiseError as exc:
                served[pair] = exc
    items, errors, classified = [], [], 0
    for index, task in enumerate(payload["tasks"]):
        item = {"kind": RESULT_KIND[task["kind"]], "taskName": task["taskName"], "lastUpdateDateTime": iso(utcnow())}
        if job["cancel_requested"]:
            items.append(dict(item, status="cancelled"))
            continue
        try:
            if isinstance(found := served[(task["projectName"], task["deploymentName"])], TagwiseError):
                raise found
            results = classify_documents(ctx, task["projectName"], task["deploymentName"], payload["documents"], served_by=found)
            for key in SERVED_KEYS:  # tagwise's :classify names the model; Azure's task results have no such fields
                results.pop(key)
            if results.pop("kind") != task["kind"]:
                raise InvalidArgument(f"The project {task['projectName']} is not a {task['kind']} project.")
            item.update(status="succeeded", results=results)
            classified += len(results["documents"])
        except TagwiseError as exc:
            item["status"] = "failed"
            # the request's fault (no such deployment) is Azure's InvalidRequest; the server's own (a model it cannot
            # load: an error with no code of its own) is InternalServerError, as :classify's 500 says
            code = "InternalServerError" if exc.code == TagwiseError.code else "InvalidRequest"
            errors.append({"code": code, "message": exc.message, "target": f"#/tasks/items/{index}"})
            # the job answers 200 with the error inside: nothing else would tell the operator
            log.warning("analyze job %s: task %d (%s/%s) failed: %s", job_id, index, task["projectName"], task["deploymentName"], exc.message)
        items.append(item)
    failed = sum(1 for i in items if i["status"] == "failed")
    status = "succeeded" if not failed else "failed" if failed == len(items) else "partiallyCompleted"
    with ctx.db.write() as conn:
        current = records.get_job(conn, job_id)
        if current["cancel_requested"]:
            status = "cancelled"
            items = [_cancelled_item(t, i) for t, i in zip(payload["tasks"], items, strict=True)]
            errors = []
            classified = 0  # its results are dropped: /metrics counts the documents answered, which are none
        if not records.update_job(conn, job_id, {"status": status, "result": {"items": items}, "errors": errors, "finished_at": utcnow(),
                                                 "percent": 100}, only_if_claimed_by=claimant):
            log.info("analyze job %s: finished here after %.1f s, but it was queued again meanwhile (this runner stopping); "
                     "its next run answers it", job_id, time.monotonic() - started)
            return 0
        # every end, as a training's is (a job that succeeded left no line); before the commit, so a
        # client that sees the end finds the line too
        log.info("analyze job %s %s after %.1f s: %d of %d tasks, %d document%s classified", job_id, status,
                 time.monotonic() - started, sum(1 for i in items if i["status"] == "succeeded"), len(items), classified,
                 "" if classified == 1 else "s")
    if tasks_ended is not None:
        tasks_ended([item["status"] for item in items])
    return classified


def _cancelled_item(task: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    return dict(item, status="cancelled", results={"projectName": task["projectName"], "deploymentName": task["deploymentName"], "documents": [], "errors": []})


def describe_job(job: dict[str, Any], *, top: int | None, skip: int, show_stats: bool, page_size: int) -> tuple[dict[str, Any], tuple[int, int] | None]:
    """The AnalyzeTextJobState; returns (body, (top, skip) of the next page or None)."""
    payload = job["payload"]
    top = top or page_size
    total = len(payload["documents"])
    out = jobs.describe(job)
    out.pop("warnings")
    if payload.get("displayName"):
        out["displayName"] = payload["displayName"]
    items = (job["result"] or {}).get("items", [])
    if job["status"] == "cancelled" and not items:
        items = [_cancelled_item(t, {"kind": RESULT_KIND[t["kind"]], "taskName": t["taskName"], "lastUpdateDateTime": iso(job["updated_at"])}) for t in payload["tasks"]]
    page_items = []
    for item in items:
        item = dict(item)
        if "results" in item:
            results = dict(item["results"])
            for key in ("documents", "errors"):
                results[key] = [d for d in results[key] if skip <= d.get("index", 0) < skip + top]
            if show_stats:
                valid = len(results["documents"])
                sizes = [len(payload["documents"][d["index"]]["text"]) for d in results["documents"]]
                results["documents"] = [dict(d, statistics={"charactersCount": size, "transactionsCount": text_records(size)})
                                        for d, size in zip(results["documents"], sizes, strict=True)]
                results["statistics"] = {"documentsCount": valid + len(results["errors"]), "validDocumentsCount": valid,
                                         "erroneousDocumentsCount": len(results["errors"]),
                                         "transactionsCount": sum(text_records(size) for size in sizes)}
            for key in ("documents", "errors"):
                results[key] = [_strip(d) for d in results[key]]
            item["results"] = results
        page_items.append(item)
    done = sum(1 for i in items if i["status"] == "succeeded")
    failed = sum(1 for i in items if i["status"] in ("failed", "cancelled"))
    out["tasks"] = {"completed": done, "failed": failed, "inProgress": len(payload["tasks"]) - done - failed,
                    "total": len(payload["tasks"]), "items": page_items}
    next_page = (top, skip + top) if job["status"] in jobs.TERMINAL and skip + top < total else None
    return out, next_page


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "index"}
