"""``tagwise train``, ``tagwise evaluate`` and ``tagwise deploy``."""

from __future__ import annotations

import json
import time
from typing import Any

import typer
from rich.table import Table

from tagwise.cli.backends import LocalBackend
from tagwise.cli.common import UsageError, err, handle_errors, opened, out, progress, sigterm_as_interrupt
from tagwise.errors import TagwiseError

MATRIX_MAX_CLASSES = 12
DEFAULT_SPLIT_PERCENT = 80


def training_body(label: str, recipe: str, split_percent: int | None, manual_split: bool) -> dict[str, Any]:
    if not recipe.strip():  # the service reads an empty trainingConfigVersion as its default: say what was meant
        raise UsageError("--recipe needs a name: auto, linear, embedding, ensemble or latest")
    if manual_split and split_percent is not None:  # the percentage was dropped without a word
        raise UsageError("--split-percent and --manual-split are two ways to choose the test set: pass one of them")
    if manual_split:
        evaluation: dict[str, Any] = {"kind": "manual"}
    else:
        split_percent = DEFAULT_SPLIT_PERCENT if split_percent is None else split_percent
        if not 1 <= split_percent <= 99:
            raise UsageError("--split-percent must be from 1 to 99 (the share of documents used for training)")
        evaluation = {"kind": "percentage", "trainingSplitPercentage": split_percent, "testingSplitPercentage": 100 - split_percent}
    return {"modelLabel": label, "trainingConfigVersion": recipe, "evaluationOptions": evaluation}


@handle_errors
def train(
    name: str = typer.Argument(..., metavar="NAME", help="Project to train."),
    model: str = typer.Option(None, "--model", help="Label of the model to create (an existing label is retrained); "
                              "required unless --cancel or --follow (with --follow: the training it must be)."),
    recipe: str = typer.Option("auto", help="Model recipe (a trainingConfigVersion): auto, linear, embedding, ensemble, "
                               "or latest (the server's default)."),
    split_percent: int = typer.Option(None, help="Train on this share of the tagged documents, test on the rest (stratified); "
                                      f"default {DEFAULT_SPLIT_PERCENT}."),
    manual_split: bool = typer.Option(False, "--manual-split", help="Use each document's own split (imported with split/--split) instead."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Queue the job and print its id (locally: a running serve/worker picks it up) or, with --endpoint, its operation URL."),
    cancel: bool = typer.Option(False, "--cancel", help="Cancel the project's queued or running training instead of starting one."),
    follow: bool = typer.Option(False, "--follow", help="Follow the project's queued or running training (one started with "
                                "--no-wait, or whose command stopped) to its end, instead of starting one."),
) -> None:
    """Train a model and show its evaluation; waits with a progress bar.

    Locally the training runs in this process unless a server or worker on the same data dir
    takes the job first. With --endpoint, the server trains and this command follows the job.
    A project trains one model at a time: --cancel cancels its queued or running training,
    --follow follows it to its end.

    \b
    Example:
      tagwise train banking --model v1 --recipe linear --manual-split
      tagwise train banking --cancel
      tagwise train banking --model v2 --no-wait && tagwise train banking --follow
    """
    if cancel and follow:
        raise UsageError("train takes --cancel or --follow, not both")
    if cancel:
        _cancel(name)
        return
    if follow:
        with opened() as be:
            if (active := be.active_training(name)) is None:
                raise TagwiseError(f"no training of {name} is queued or running")
            job, training = active
            if model is not None and model != training:  # --model said which: another one's scores would pass for it
                raise TagwiseError(f"the training of {name} queued or running is of {training}, not {model}")
            _follow(be, name, training, job)
        return
    if model is None:
        raise UsageError("train needs --model LABEL (or --cancel, or --follow)")
    body = training_body(model, recipe, split_percent, manual_split)
    with opened() as be:
        if no_wait:
            job = _start(be, name, body)
            typer.echo(job)
            local = isinstance(be, LocalBackend)
            where = "a tagwise serve or tagwise worker on this data dir will run it" if local else "the server runs it"
            where += f"; tagwise train {name} --follow follows it, tagwise train {name} --cancel drops it"
            # a sample's TRAINING_JOB_ID wants the id, which the remote URL holds: it had to be cut out by hand
            job_id = None if local else str(job).split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            err().print(f"queued training of {name}/{model}{f' (job id {job_id})' if job_id else ''}: {where}", markup=False)
            return
        job = None
        with sigterm_as_interrupt():  # from before the queueing: a stop before the claim left the job queued for good
            try:
                job = _start(be, name, body)
                _follow(be, name, model, job)
            except KeyboardInterrupt:
                if job is not None and isinstance(be, LocalBackend):
                    be.abandon_training(job)
                raise


def _follow(be: Any, name: str, model: str, job: str) -> None:
    """Follow a training job to its end with a progress bar, then print its scores and notes."""
    started = time.monotonic()
    with progress() as bar, sigterm_as_interrupt():
        task = bar.add_task(f"training {name}/{model}", total=100)
        try:
            be.wait_training(name, job, lambda percent: bar.update(task, completed=percent))
        except KeyboardInterrupt:
            if not isinstance(be, LocalBackend):  # "interrupted" read as stopped, and the next train was refused
                doing = ("keeps the training of {} queued (it has not started)" if be.training_status == "notStarted"
                         else "goes on training {}").format(f"{name}/{model}")
                err().print(f"note: the server {doing}; tagwise train {name} --follow follows it again, "
                            f"tagwise train {name} --cancel stops it", markup=False)
            raise
    summary = be.evaluation_summary(name, model)
    # the model's own training time: the command's wall time counted its waits (160 s for a 16 s training, rate-limited)
    took = next((m.get("lastTrainingDurationInSeconds") for m in be.list_models(name) if m.get("label") == model), None)
    scores = _scores(summary)
    if "customMultiLabelClassificationEvaluation" in summary:  # "accuracy" is exact match there: every class right
        headline = (f"micro F1 {scores['microF1']:.3f}, macro F1 {scores['macroF1']:.3f}, "
                    f"exact match {scores['accuracy']:.3f}")
    else:
        headline = f"accuracy {scores['accuracy']:.3f}, macro F1 {scores['macroF1']:.3f}, micro F1 {scores['microF1']:.3f}"
    # the API's whole seconds ("in 0.0 s" for a 0.4 s training read as nothing done); the wait's own time without them
    spent = (f"{took:.0f} s" if took >= 1 else "under 1 s") if isinstance(took, int | float) else f"{time.monotonic() - started:.1f} s"
    out().print(f"trained {name}/{model} in {spent}: {headline} on {scores['testDocuments']} test documents", markup=False)
    for line in _notes(summary):  # what the studio's pages say around the scores
        err().print(f"note: {line}", markup=False)


def _notes(summary: dict[str, Any]) -> list[str]:
    """The training's notes (classes with too few examples, texts in another language than the
    project's), what ``auto`` chose and why, the sentence encoder, and what the studio's Evaluate
    page warns of: a model no better than always answering the commonest class, classes it
    never chose, classes its test set lacks."""
    from tagwise.core.model_results import against_baseline, baseline_caution, never_predicted, untested

    model = {"evaluation": summary}
    extra = summary.get("tagwise") or {}
    lines = list(extra.get("notes") or [])
    if extra.get("chosenRecipe"):
        lines.append(f"auto chose {extra['chosenRecipe']}" + (f": {extra['chosenBecause']}" if extra.get("chosenBecause") else ""))
    if extra.get("sentenceEncoder"):
        lines.append(f"sentence encoder: {extra['sentenceEncoder']}")
    if threshold := extra.get("confidenceThreshold"):  # the studio says it; an accuracy of 0.924 against 0.973 was the threshold alone
        if "customMultiLabelClassificationEvaluation" in summary:
            lines.append(f"scored with a confidence floor of {threshold:g}, the project's when it trained: no class was chosen below it")
        else:
            lines.append(f"scored at a confidence threshold of {threshold:g}, the project's when it trained: "
                         "a less sure answer counted as None")
    if set_by_project := extra.get("projectClassThresholds"):  # a class's recall of 0.35 had no explanation
        shown = ", ".join(f"{name} {value:g}" for name, value in sorted(set_by_project.items()))
        lines.append(f"scored with the project's class thresholds in place of the tuned ones: {shown}")
    if found := against_baseline(model):  # the studio's pages say it with the same test
        how = "worse than" if found["worse"] else "no better than"
        scored = ", answering every document as if there were no threshold" if found["threshold"] else ""
        lines.append(f"{how} always answering {found['class']} ({found['accuracy']:.3f} against {found['baseline']:.3f}{scored}): "
                     f"{found['advice']} before deploying it")
    elif caution := baseline_caution(model, "the model"):
        lines.append(caution)
    if names := never_predicted(model):
        lines.append(f"never chosen on the test set: {', '.join(names)} (their test documents all got other answers)")
    if names := untested(model):
        lines.append(f"not tested: {', '.join(names)} (no test documents: these scores say nothing about them)")
    return lines


def _start(be: Any, name: str, body: dict[str, Any]) -> str:
    try:
        return be.start_training(name, body)
    except TagwiseError as exc:
        if exc.message.startswith("trainingConfigVersion"):  # the service knows the recipes (a server may know others)
            raise UsageError(exc.message.replace("trainingConfigVersion", "--recipe", 1)) from None
        if exc.code == "Conflict" and "already training" in exc.message:
            exc.message = f"{exc.message.rstrip('.')} (tagwise train {name} --cancel)."
        raise


def _cancel(name: str) -> None:
    with opened() as be:
        cancelled = be.cancel_training(name)
    console = err()
    if not cancelled:
        console.print(f"no training of {name} is queued or running", markup=False)
    for job in cancelled:
        if job["status"] == "cancelled":
            console.print(f"cancelled training job {job['jobId']} of {name}", markup=False)
        else:  # running: its process stops at its next progress step
            console.print(f"cancelling training job {job['jobId']} of {name}: it stops at its next progress step", markup=False)


def _scores(summary: dict[str, Any]) -> dict[str, Any]:
    from tagwise.core.model_results import evaluation_body

    body = evaluation_body({"evaluation": summary})
    extras = summary.get("tagwise") or {}
    return {**body, "accuracy": extras.get("accuracy", body.get("microF1", 0.0)), "testDocuments": extras.get("testDocuments", "?"),
            "ece": extras.get("expectedCalibrationError")}


@handle_errors
def evaluate(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    model: str = typer.Option(..., "--model", help="Label of a trained model."),
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation summary as JSON (the API's summary-result)."),
) -> None:
    """Show a trained model's evaluation: summary, per-class table and, for single-label, the confusion matrix.

    Single-label: with more than 12 classes the confusion matrix is shown as the most frequent
    confusions. Multi-label has no confusion matrix: the summary's first line is the exact match
    (every class of a document right), the per-class table's fp and fn columns count each class
    added wrongly and missed, and a line counts the documents with no class. A test set in several
    languages gets a line of accuracy (exact match) per language.
    The training's notes follow on stderr, as after train: a model no better than always
    answering the commonest class, classes never chosen, classes the test set lacks.

    \b
    Example:
      tagwise evaluate banking --model v1
    """
    from tagwise.core.model_results import accuracy_interval, no_class, no_class_line
    from tagwise.core.percentfmt import percent

    with opened() as be:
        summary = be.evaluation_summary(name, model)
    if as_json:  # stdout stays the summary; the notes, as train prints them, go to stderr (a script read none)
        typer.echo(json.dumps(summary, indent=2))
        for line in _notes(summary):
            err().print(f"note: {line}", markup=False)
        return
    console = out()
    scores = _scores(summary)
    # multi-label's tagwise.accuracy is the exact match: named so, as train and the studio name it
    accuracy = "exact match" if "customMultiLabelClassificationEvaluation" in summary else "accuracy"
    head = Table("metric", "value", box=None, title=f"{name}/{model}", title_justify="left")
    for key in ("accuracy", "microPrecision", "microRecall", "microF1", "macroPrecision", "macroRecall", "macroF1", "ece"):
        if scores.get(key) is not None:
            head.add_row(accuracy if key == "accuracy" else key, f"{scores[key]:.4f}")
    head.add_row("testDocuments", str(scores["testDocuments"]))
    if found := accuracy_interval({"evaluation": summary}):  # as the studio's Evaluate page shows it
        head.add_row(f"{accuracy}, 95% interval", f"{found['low']:.4f}-{found['high']:.4f}")
    console.print(head)
    console.print(_class_table(scores.get("classes") or {}))
    if counts := no_class({"evaluation": summary}):  # multi-label: "no class" has no row in the table
        console.print(no_class_line(counts), markup=False)
    if by_language := (summary.get("tagwise") or {}).get("languages"):  # a test set in several languages
        console.print(f"{accuracy} by language: " + ", ".join(
            f"{r['language']} {percent(r['accuracy'])} ({r['correct']:,} of {r['testDocuments']:,})" for r in by_language), markup=False)
    matrix = scores.get("confusionMatrix")
    if matrix is not None:
        console.print(_confusion(matrix))
    for line in _notes(summary):  # on stderr, as train prints them: stdout stays the tables
        err().print(f"note: {line}", markup=False)


def _class_table(classes: dict[str, dict[str, Any]]) -> Table:
    """Per class; "-" where the test set cannot say (never chosen: no precision; not tested: no recall)."""
    from tagwise.core.model_results import class_scores

    table = Table("class", "precision", "recall", "f1", "support", "tp", "fp", "fn", box=None, title="per class", title_justify="left")
    for label, m in sorted(classes.items()):
        support = m["truePositiveCount"] + m["falseNegativeCount"]
        table.add_row(label, *(f"{v:.3f}" if v is not None else "-" for v in class_scores(m)), str(support),
                      str(m["truePositiveCount"]), str(m["falsePositiveCount"]), str(m["falseNegativeCount"]))
    return table


def _confusion(matrix: dict[str, dict[str, dict[str, float]]]) -> Table:
    labels = sorted(set(matrix) | {p for row in matrix.values() for p in row})
    if len(labels) <= MATRIX_MAX_CLASSES:
        table = Table("expected \\ predicted", *labels, box=None, title="confusion matrix (counts)", title_justify="left")
        for expected in labels:
            row = matrix.get(expected, {})
            table.add_row(expected, *(str(int(row[p]["rawValue"])) if p in row else "." for p in labels))
        return table
    pairs = sorted(((cell["rawValue"], e, p) for e, row in matrix.items() for p, cell in row.items() if e != p), reverse=True)
    table = Table("expected", "predicted", "count", box=None, title="most frequent confusions", title_justify="left")
    for count, expected, predicted in pairs[:15]:
        table.add_row(expected, predicted, str(int(count)))
    return table


@handle_errors
def deploy(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    deployment: str = typer.Argument(..., metavar="DEPLOYMENT", help="Deployment name (created, or switched to the new model)."),
    model: str = typer.Option(..., "--model", help="Label of the trained model to serve."),
) -> None:
    """Serve a trained model under a deployment name.

    A model no better than always answering its test set's commonest class is deployed with a
    warning on stderr (the API's deploy job carries the same warning).

    \b
    Example:
      tagwise deploy banking production --model v1
    """
    with opened() as be:
        result = be.deploy(name, deployment, model)
        summary = be.evaluation_summary(name, model)
    console = err()
    console.print(f"deployed {name}/{model} as {deployment} (model id {result['modelId']})", markup=False)
    from tagwise.core.model_results import baseline_warning

    # the words of the API's deploy job warning (core.deployments.cautions)
    if warning := baseline_warning({"evaluation": summary}, f"{name}/{model}", deployed=True):
        console.print(f"warning: {warning}", markup=False)
