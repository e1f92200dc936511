"""Train and evaluate: the model side of the studio (deploy.py puts a model live and tries it)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from tagwise.core import deployments, jobs, label_issues, model_results, models, projects, tagging, training
from tagwise.core.percentfmt import percent
from tagwise.core.predictors import bars_by_class
from tagwise.core.validation import MULTI
from tagwise.errors import InvalidArgument, TagwiseError
from tagwise.storage import records
from tagwise.storage.document_records import DocumentFilter
from tagwise.storage.records import utcnow
from tagwise.studio import views
from tagwise.studio.auth import Session, require_csrf, require_session
from tagwise.studio.web import StudioRoute, context, plain_percent, query, redirect, refused, render

router = APIRouter(prefix="/studio", route_class=StudioRoute)


# -- train ------------------------------------------------------------------------------------

# what each recipe is, for the Train page's choice (docs/models.md has the measurements)
RECIPE_NOTES = {
    "auto": "fits linear, then ensemble if time allows, keeps the better by cross-validation",
    "linear": "word and character TF-IDF: trains in seconds, classifies fastest",
    "embedding": "sentence embeddings: knows synonyms and paraphrases",
    "ensemble": "both together: usually the most accurate, about 1,000 texts/s",
    "2022-05-01": "Azure's config version name: the default recipe",
}


@router.get("/p/{project}/train", response_class=HTMLResponse)
def train_page(request: Request, project: str, _s: Session = Depends(require_session)) -> Response:
    record = projects.get(context(request), project)
    history = jobs.list_for(context(request), "train", project)[::-1][:20]
    existing = models.list_all(context(request), project)
    in_test = tagging.list_documents(context(request), project, DocumentFilter(dataset="Test"), page_size=1).total
    return render(request, "train.html", project=record, nav="train", jobs=history, recipes=list(training.config_versions()),
                  notes=RECIPE_NOTES, default_label=next_label([m["label"] for m in existing]), in_test=in_test)


def next_label(labels: list[str]) -> str:
    """The name the Train page suggests: one past the highest ``model-N`` (any case), never a label in ``labels``.

    The count of models was suggested before, which after a deletion named an existing model, and
    training under it replaced that model.

    >>> next_label(["model-1", "model-3"])
    'model-4'
    """
    numbers = [int(found.group(1)) for label in labels if (found := re.fullmatch(r"model-([0-9]+)", label, re.IGNORECASE))]
    taken, number = {label.casefold() for label in labels}, max(numbers, default=0) + 1
    while f"model-{number}" in taken:  # never true today (the highest's successor is free); kept so the promise holds
        number += 1
    return f"model-{number}"


@router.post("/p/{project}/train")
def start_training(request: Request, project: str, label: str = Form(""), recipe: str = Form("latest"), split: str = Form("percentage"),
                   train_pct: int = Form(80), _s: Session = Depends(require_csrf)) -> Response:
    options = {"kind": "manual"} if split == "manual" else {
        "kind": "percentage", "trainingSplitPercentage": train_pct, "testingSplitPercentage": 100 - train_pct}
    job = training.start(context(request), project, {"modelLabel": label.strip(), "trainingConfigVersion": recipe, "evaluationOptions": options})
    request.app.state.runner.notify()
    return redirect(f"/studio/p/{project}/train/{job['id']}")


@router.get("/p/{project}/train/{job_id}.json")
def job_status(request: Request, project: str, job_id: str, _s: Session = Depends(require_session)) -> dict:
    """What the progress page polls."""
    ctx = context(request)
    return _job_state(ctx, project, jobs.get(ctx, job_id, "train", project))


@router.get("/p/{project}/train/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, project: str, job_id: str, _s: Session = Depends(require_session)) -> Response:
    ctx = context(request)
    record = projects.get(ctx, project)
    job = jobs.get(ctx, job_id, "train", project)
    return render(request, "job.html", project=record, nav="train", job=job, state=_job_state(ctx, project, job))


def _job_state(ctx, project: str, job: dict) -> dict:
    scores = _scores(ctx, project, job)
    warnings = [w.get("message", "") for w in job["warnings"] or []] + ([scores["caution"]] if scores["caution"] else [])
    if job["status"] == "notStarted" and not ctx.settings.run_jobs:  # it waited with nothing on the page to say why
        warnings.append("Waiting for a job runner: this server runs no jobs itself (TAGWISE_RUN_JOBS=false), so the training "
                        "starts when a tagwise worker on the same store takes it. If it stays waiting, ask whoever runs "
                        "the server to start one.")
    return {"status": job["status"], "percent": 100 if job["status"] == "succeeded" else int(job["percent"] or 0),
            "done": job["status"] in jobs.TERMINAL, "modelLabel": job["payload"]["modelLabel"],
            "errors": [e.get("message", "") for e in job["errors"] or []], **scores, "warnings": warnings}


def _scores(ctx, project: str, job: dict) -> dict[str, str | None]:
    """The headline of a finished training's evaluation, so the page says how it went (``scores``),
    ``verdict``: a warning when it does no better than always answering the commonest class, and
    ``caution``: when it beats it by less than its test set can tell."""
    model = _trained_by(ctx, project, job)
    if model is None:
        return {"scores": "", "verdict": None, "caution": None}
    return {"scores": _headline(model), "verdict": model_results.baseline_warning(model), "caution": model_results.baseline_caution(model)}


def _trained_by(ctx, project: str, job: dict) -> dict | None:
    """The model a succeeded training job made, unless deleted or retrained since."""
    if job["status"] != "succeeded":
        return None
    try:
        model = models.get(ctx, project, job["payload"]["modelLabel"])
    except TagwiseError:  # deleted since
        return None
    return model if model["model_id"] == (job["result"] or {}).get("modelId") else None  # else: retrained since


def _headline(model: dict) -> str:
    body, extra = model_results.evaluation_body(model), (model["evaluation"] or {}).get("tagwise", {})
    parts = [f"micro F1 {percent(body.get('microF1', 0))}", f"macro F1 {percent(body.get('macroF1', 0))}"]
    if extra.get("accuracy") is not None and "customSingleLabelClassificationEvaluation" in (model["evaluation"] or {}):
        parts[0] = f"accuracy {percent(extra['accuracy'])}"
        threshold = extra.get("confidenceThreshold")
        if threshold and (answering_all := model_results.unthresholded_accuracy(extra)) is not None:
            # "accuracy 52.2% (always answering Major: 71.0%)" set a score with the threshold's None answers
            # counted wrong against a baseline without them, and the verdict beside it said 62.5%
            scored = model_results.row_at(extra.get("thresholds") or [], threshold) or {}
            none = f", {percent(scored['abstained'])} of them answered None" if "abstained" in scored else ""
            # the macro F1 is scored at the threshold too: after "with no threshold 94.7%" it read as that score's
            parts = [(f"{parts[0]} and {parts[1]} at the {plain_percent(threshold)}% threshold it was trained at{none}; "
                      f"with no threshold accuracy {percent(answering_all)}")]
        if baseline := extra.get("majorityBaseline"):
            parts[0] += f" (always answering {model_results.commonest(baseline)}: {percent(baseline['accuracy'])})"
    return f"On {extra.get('testDocuments', '?')} test documents: " + ", ".join(parts) + "."


@router.post("/p/{project}/train/{job_id}/cancel")
def cancel(request: Request, project: str, job_id: str, _s: Session = Depends(require_csrf)) -> Response:
    jobs.get(context(request), job_id, "train", project)
    jobs.request_cancel(context(request), job_id)
    return redirect(f"/studio/p/{project}/train/{job_id}", "Cancel requested.")


# -- evaluate ---------------------------------------------------------------------------------

@router.get("/p/{project}/evaluate", response_class=HTMLResponse)
def evaluate(request: Request, project: str, model: str | None = None, norm: int = 0, wrong: int = 1, matrix: str | None = None,
             _s: Session = Depends(require_session)) -> Response:
    return _evaluate_page(request, project, model, norm, wrong=wrong, matrix=matrix)


def _evaluate_page(request: Request, project: str, model: str | None, norm: int = 0, status_code: int = 200, wrong: int = 1,
                   matrix: str | None = None, **values) -> Response:
    matrix = "full" if matrix == "full" else None  # the whole confusion matrix, asked for; anything else: the default
    details = model_results.evaluation_details(context(request), project, model or None, wrong_page=wrong)
    trained = details["model"]
    view = {}
    if trained is not None:
        view = {"metrics": model_results.evaluation_body(trained), "rows": views.class_rows(trained, details["counts"]),
                "never_predicted": model_results.never_predicted(trained), "untested": model_results.untested(trained),
                "confusion": views.confusion(trained, bool(norm), full=matrix is not None), "label_confusion": views.label_confusion(trained),
                "extra": (trained["evaluation"] or {}).get("tagwise", {}), "verdict": model_results.baseline_warning(trained),
                "caution": model_results.baseline_caution(trained),
                "languages": model_results.languages(trained), "interval": model_results.accuracy_interval(trained),
                "no_class": model_results.no_class(trained),
                # by id: a deployment can serve an earlier model of the same label, which the delete refuses too (said apart)
                **_deployed(deployments.list_all(context(request), project), trained)}
        if ((trained["evaluation"] or {}).get("evaluationOptions") or {}).get("kind") == "percentage":
            view["test_set_kept"] = tagging.is_test_set(context(request), project, trained)
        now = (details["project"]["settings"] or {}).get("confidenceThreshold") or 0
        view["thresholds"] = model_results.thresholds_table(trained, now)
        view["row_now"] = model_results.row_at(view["thresholds"], now) is not None
    issues = label_issues.label_issues(context(request), project)
    checking = label_issues.check_state(context(request), project)
    current, test_marks, kept = {}, {}, {}
    if issues:  # the tags and sets now: the list is from the check, and may be older than a fix or "Keep these test documents"
        current = tagging.current_tags(context(request), project, [i.doc_id for i in issues.issues])
        kept = tagging.confirmed_tags(context(request), project, [i.doc_id for i in issues.issues])  # "Tag is right" since the check
        # listed test documents: of the project's Test set now, or of the model's own test split (a percentage split draws
        # them at training), whose retagging Compare reads as other tags
        model_test = {r["location"] for r in trained.get("evaluation_results") or []} if trained is not None else set()
        for i in issues.issues:
            if current.get(i.doc_id, (None, i.dataset))[1] == "Test":
                test_marks[i.doc_id] = "set"
            elif i.location in model_test:
                test_marks[i.doc_id] = "model"
    # also when a refused form renders it; a fix comes back to the page of mistakes it was made on
    here = f"/studio/p/{project}/evaluate" + query(model=model, norm=norm or None, matrix=matrix,
                                                   wrong=details.get("wrong_page", 1) if wrong > 1 else None)
    return render(request, "evaluate.html", status_code=status_code, project=details["project"], nav="evaluate", details=details,
                  view=view, norm=bool(norm), matrix=matrix, issues=issues, checking=checking, current=current, test_marks=test_marks, kept=kept, query=query, here=here,
                  **values)


@router.post("/p/{project}/evaluate/keep-test-set")
def keep_test_set(request: Request, project: str, model: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    kept = tagging.keep_test_set(context(request), project, model)
    gone = f" ({kept['gone']:,} of its test documents no longer exist)" if kept["gone"] else ""
    moved = (f"; {kept['to_train']:,} other document{'' if kept['to_train'] == 1 else 's'} moved from Test to Train"
             if kept["to_train"] else "")
    return redirect(f"/studio/p/{project}/train",
                    f"The {kept['test']:,} test documents of {model} are now the project's Test set{gone}{moved}. "
                    "Train with \"each document's Train/Test set\" to score the next model on them.")


@router.post("/p/{project}/evaluate/threshold")
def set_threshold(request: Request, project: str, percent: str = Form(""), model: str = Form(""),
                  _s: Session = Depends(require_csrf)) -> Response:
    """The project's confidence threshold. Single-label: below it every deployment answers None.
    Multi-label: a floor under each class's tuned threshold (a class is returned only at or above both)."""
    back = f"/studio/p/{project}/evaluate" + query(model=model or None) + "#threshold"
    value = _fraction(percent)
    if value is None:
        value = 0.0
    if not 0 <= value < 1:  # the form again, with what was typed, the field marked
        refusal = InvalidArgument(f"Give the threshold as a percentage from 0 to below 100 (e.g. 90 or 12.5), not {percent.strip()!r}.")
        return _evaluate_page(request, project, model, status_code=400, typed={"percent": percent}, invalid=refused(refusal, "threshold-percent"))
    record = projects.get(context(request), project)
    multi = record["kind"] == MULTI
    # "0.6", a probability as the API writes it, set 0.6%: under 1/N the likeliest of N classes always passes
    if not multi and 0 < value < 0.01 and value * len(record["classes"]) < 1:
        refusal = InvalidArgument(f"{plain_percent(value)}% would change nothing: the likeliest of {len(record['classes'])} classes always "
                                  f"scores at least {100 / len(record['classes']):.1f}%. The field takes a percentage: for "
                                  f"{plain_percent(value * 100)}%, type {plain_percent(value * 100)}.")
        return _evaluate_page(request, project, model, status_code=400, typed={"percent": percent}, invalid=refused(refusal, "threshold-percent"))
    # multi-label, the same slip: a 0.6% floor under every class's own threshold (11.5% and up) changed nothing
    if multi and 0 < value < 0.01 and value < (_lowest_class_bar(context(request), record, model) or 0):
        refusal = InvalidArgument(f"{plain_percent(value)}% would change nothing: every class's own threshold is higher. The field takes "
                                  f"a percentage: for {plain_percent(value * 100)}%, type {plain_percent(value * 100)}.")
        return _evaluate_page(request, project, model, status_code=400, typed={"percent": percent}, invalid=refused(refusal, "threshold-percent"))
    # a JSON merge patch of the settings, as the API's PATCH: null removes the threshold
    projects.upsert(context(request), project, {"settings": {"confidenceThreshold": value or None}})
    if multi:
        if not value:  # "its own tuned threshold" read wrong beside a class threshold the project set
            own = "its own threshold (tuned, or set for this project)" if (record["settings"] or {}).get("classThresholds") else "its own tuned threshold"
            return redirect(back, f"No confidence threshold: every deployment of this project returns each class that reaches {own}.")
        return redirect(back, f"From now on every deployment of this project returns a class only when its probability reaches both "
                              f"its own threshold and {plain_percent(value)}%; no training needed. "
                              "The evaluation's scores stay those measured when the model was trained.")
    if not value:
        return redirect(back, "No threshold: every deployment of this project answers its likeliest class, however unsure.")
    return redirect(back, f"From now on every deployment of this project answers None when its likeliest class is under "
                          f"{plain_percent(value)}%; no training needed. The evaluation's scores stay those at the threshold it was trained with.")


@router.post("/p/{project}/evaluate/class-threshold")
def set_class_threshold(request: Request, project: str, cls: str = Form(""), percent: str = Form(""), model: str = Form(""),
                        _s: Session = Depends(require_csrf)) -> Response:
    """Multi-label: one class's threshold in place of the tuned one (empty: back to the tuned one)."""
    back = f"/studio/p/{project}/evaluate" + query(model=model or None) + "#class-thresholds"
    value = _fraction(percent)
    typed = {"cls": cls, "percent": percent}
    if not cls:
        return _evaluate_page(request, project, model, status_code=400, class_typed=typed,
                              invalid=refused(InvalidArgument("Choose the class whose threshold to set."), "class-threshold-class"))
    if value is not None and not 0 <= value < 1:
        refusal = InvalidArgument(f"Give the threshold as a percentage from 0 to below 100 (e.g. 60 or 12.5), not {percent.strip()!r}; "
                                  "empty to go back to the tuned one.")
        return _evaluate_page(request, project, model, status_code=400, class_typed=typed,
                              invalid=refused(refusal, "class-threshold-percent"))
    try:  # a JSON merge patch of the settings, as the API's PATCH: null removes the class's threshold
        projects.upsert(context(request), project, {"settings": {"classThresholds": {cls: value}}})
    except InvalidArgument as exc:  # not a class of the project (or a single-label project): said next to the class
        return _evaluate_page(request, project, model, status_code=400, class_typed=typed, invalid=refused(exc, "class-threshold-class"))
    if value is None:
        return redirect(back, f"{cls} is back to its threshold tuned at training, in every deployment of this project.")
    return redirect(back, f"From now on every deployment of this project returns {cls} when its probability reaches "
                          f"{plain_percent(value)}% instead of its tuned threshold (and the project's confidence threshold, if higher); "
                          "no training needed. The evaluation's scores stay those measured when the model was trained.")


def _deployed(listed: list[dict], trained: dict) -> dict[str, list[str]]:
    """The deployments serving the model shown (``deployed_as``), and those serving a model trained
    under its label before it was trained again (``served_earlier``): either refuses its deletion."""
    return {"deployed_as": [d["name"] for d in listed if d["model_id"] == trained["model_id"]],
            "served_earlier": [d["name"] for d in listed if d["model_label"] == trained["label"] and d["model_id"] != trained["model_id"]]}


def _lowest_class_bar(ctx, project: dict, model: str) -> float | None:
    """A multi-label project's lowest class threshold: the model's tuned ones (the page's model, or
    the newest), each replaced by the one the project set for it; None before any model."""
    with ctx.db.read() as conn:
        record = records.get_model(conn, project["id"], model) if model else records.latest_model(conn, project["id"])
    tuned = ((record or {}).get("evaluation") or {}).get("tagwise", {}).get("classThresholds") or {}
    return min(bars_by_class(tuned, 0.0, (project["settings"] or {}).get("classThresholds")).values(), default=None)


def _fraction(percent: str) -> float | None:
    """A percentage typed in a form as a 0-1 fraction; None when empty, -1 when no number."""
    # "12,5": a German keyboard's decimal key (the field asks for inputmode=decimal) types a comma
    text = percent.strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return None
    try:
        return round(float(text) / 100, 6)  # 99.999% is 0.99999, which the API takes too (4 places made it 1.0, refused)
    except ValueError:
        return -1.0


@router.post("/p/{project}/models/delete")
def delete_model(request: Request, project: str, model: str = Form(""), model_id: str = Form(""),
                 _s: Session = Depends(require_csrf)) -> Response:
    """The model with its folder, data snapshot and evaluation, as the API's DELETE; a deployed model is
    refused (a Conflict naming its deployments, shown on the page the form came from), and so is a
    model trained again under the label since the page was shown (the newer one would have gone)."""
    models.delete(context(request), project, model, model_id or None)
    return redirect(f"/studio/p/{project}/evaluate", f"Model {model} deleted, with its files, the snapshot of its training "
                                                     "data and its evaluation.")


@router.post("/p/{project}/evaluate/issues")
def find_issues(request: Request, project: str, model: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    label_issues.start_check(context(request), project)  # in the background: tens of seconds, more than a request should wait
    back = f"/studio/p/{project}/evaluate" + query(model=model or None)  # the model that was on the page, not the newest
    return redirect(f"{back}#issues", "Checking the tags in the background: a fresh model per fold, about half a minute for a few "
                                      "thousand documents. This page shows the result when it is done.")


@router.get("/p/{project}/evaluate/issues.json")
def issues_state(request: Request, project: str, _s: Session = Depends(require_session)) -> dict:
    """Whether a check of the project's tags still runs, and for how many seconds: the Evaluate page polls
    it, says how long it has run (47-72 s on a busy machine, with no word meanwhile), and reloads once it is done."""
    since = label_issues.check_state(context(request), project)["running_since"]
    return {"running": since is not None, "seconds": None if since is None else max(0, round((utcnow() - since).total_seconds()))}
