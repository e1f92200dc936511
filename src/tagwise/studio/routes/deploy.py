"""Deploy and try: putting a model live under a name, and classifying text or a file with it."""

from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from tagwise.api.errors import status_for
from tagwise.core import analyze, deployments, model_results, models, projects
from tagwise.core.model_results import against_baseline
from tagwise.core.validation import MULTI, blank, check_text
from tagwise.errors import InvalidArgument, TagwiseError
from tagwise.studio import spreadsheets, uploads
from tagwise.studio.auth import Session, require_csrf, require_session
from tagwise.studio.snippets import classify_snippets
from tagwise.studio.web import StudioRoute, context, query, redirect, refused, render

router = APIRouter(prefix="/studio", route_class=StudioRoute)
MAX_TRY_CHARS = 5_000
MAX_TRY_FILE_DOCUMENTS = 10_000  # a file on the Try it page: ~10-20 s on 2 cores; tagwise classify streams more
MAX_TRY_FILE_BYTES = 32 * 1024 * 1024  # 10,000 long tickets (Jira's average ~1,500 characters) fit

# -- deploy -----------------------------------------------------------------------------------

@router.get("/p/{project}/deployments", response_class=HTMLResponse)
def deployments_page(request: Request, project: str, model: str = "", _s: Session = Depends(require_session)) -> Response:
    """``model``: the model to offer first (a job page's Deploy button names its own; else the newest,
    which put m2 live from m1's page)."""
    record = projects.get(context(request), project)
    trained = models.list_all(context(request), project)[::-1]
    flagged = {m["label"]: against_baseline(m) for m in trained}
    # else the newest model that beats always answering the commonest class: the newest was offered
    # even when flagged, and one click put it live in place of production's
    chosen = model or next((m["label"] for m in trained if not flagged[m["label"]]), trained[0]["label"] if trained else "")
    return render(request, "deployments.html", project=record, nav="deploy", models=trained, chosen=chosen,
                  below_baseline=flagged, deployments=deployments.list_all(context(request), project))


@router.post("/p/{project}/deployments")
def deploy(request: Request, project: str, name: str = Form(""), model: str = Form(""), anyway: str = Form(""),
           _s: Session = Depends(require_csrf)) -> Response:
    served = {d["name"]: d["model_label"] for d in deployments.list_all(context(request), project)}.get(name.strip())
    warning = model_results.baseline_warning(models.get(context(request), project, model))
    if warning and not anyway:  # said before, not after: nothing is deployed until the box is ticked
        return redirect(f"/studio/p/{project}/deployments" + query(model=model),
                        f"Nothing was deployed. {warning} To deploy it all the same, tick \"Deploy it even so\".", "error")
    deployments.deploy(context(request), project, name.strip(), {"trainedModelLabel": model})
    done = f"Model {model} is deployed as {name.strip()}" + (f", in place of {served}." if served and served != model else ".")
    if warning:
        return redirect(f"/studio/p/{project}/deployments", f"{done} {warning}", "error")
    return redirect(f"/studio/p/{project}/deployments", done)


@router.post("/p/{project}/deployments/swap")
def swap(request: Request, project: str, first: str = Form(""), second: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    deployments.swap(context(request), project, {"firstDeploymentName": first, "secondDeploymentName": second})
    return redirect(f"/studio/p/{project}/deployments", f"Swapped the models of {first} and {second}.")


@router.post("/p/{project}/deployments/delete")
def delete_deployment(request: Request, project: str, name: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    deployments.delete(context(request), project, name)
    return redirect(f"/studio/p/{project}/deployments", f"Deployment {name} deleted.")


# -- try --------------------------------------------------------------------------------------

@router.get("/p/{project}/try", response_class=HTMLResponse)
def try_page(request: Request, project: str, deployment: str = "", _s: Session = Depends(require_session)) -> Response:
    return _try(request, projects.get(context(request), project), deployment, "")


@router.post("/p/{project}/try", response_class=HTMLResponse)
def try_text(request: Request, project: str, deployment: str = Form(""), text: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    """Classify the text; when it cannot be, say why on the page and keep the text in the form."""
    record = projects.get(context(request), project)
    text = text.replace("\r\n", "\n")  # a form sends each line break as two characters; the box counted one
    refusal = ("Paste some text to classify." if blank(text) else
               f"The text has {len(text):,} characters; paste at most {MAX_TRY_CHARS:,} here (the API's :classify, "
               "tagwise classify and the SDKs take longer texts)." if len(text) > MAX_TRY_CHARS else None)
    if refusal:  # the text's own fault: the message goes with the text box
        return _try(request, record, deployment, text, status_code=400, invalid=refused(InvalidArgument(refusal), "try-text"))
    try:
        record, [prediction] = analyze.classify(context(request), project, deployment, [text])
    except TagwiseError as exc:
        return _try(request, record, deployment, text, status_code=status_for(exc), invalid=refused(exc, None))
    request.app.state.metrics.classified("studio", 1)
    truncated = analyze.truncation_warning(prediction.read_tokens)["message"] if prediction.read_tokens else None
    # the API's, the SDK's and Try it's file's LanguageNotTrained: the page a team tests foreign tickets on said nothing
    untrained = prediction.language_warning["message"] if prediction.language_warning else None
    return _try(request, record, deployment, text, result=prediction, truncated=truncated, untrained=untrained)


@router.post("/p/{project}/try/file")
def try_file(request: Request, project: str, file: UploadFile | None = None, deployment: str = Form(""),
             text_column: str = Form(""), label_column: str = Form(""), name_column: str = Form(""),
             _s: Session = Depends(require_csrf)) -> Response:
    """Classify every document of a file (the formats the Data page's upload reads) and hand back a
    CSV: this week's ticket export, classified, without the command line. A file that cannot be read
    is refused on the page with why, as an upload is."""
    ctx = context(request)
    record = projects.get(ctx, project)
    try:
        docs = _file_documents(ctx, record, file, uploads.Columns(text_column, label_column, name_column))
        # a spreadsheet that separates fields with ";" writes decimals with a comma: "0.9917" would be text there
        decimal = "," if spreadsheets.separator_for(request) == ";" else "."
        rows = _classified_rows(ctx, record["name"], deployment, docs, decimal)
    except TagwiseError as exc:
        # the refusal keeps the columns named (they were lost, and "Columns" folded again)
        return _try(request, record, deployment, "", status_code=status_for(exc), invalid=refused(exc, "try-file"),
                    columns={"text": text_column, "labels": label_column, "location": name_column})
    tagged = any(d.get("labels") for d in docs)  # a .txt file's one document has none
    header = ["location", "text", "class", "confidence", "warnings", "error"] + (["tagged"] if tagged else [])
    stem = PurePath((file.filename or "documents").replace("\\", "/")).stem or "documents"
    request.app.state.metrics.classified("studio", sum(1 for row in rows if not row[5]))
    return spreadsheets.download(request, f"{stem}-classified.csv", header,
                                 (row + ([_tagged(d.get("labels"))] if tagged else []) for row, d in zip(rows, docs, strict=True)))


def _tagged(labels: list[str] | None) -> str:
    """A document's tags in the file's ``tagged`` column: tagged "no class" reads as the ``class`` column
    writes it (both were empty beside a predicted "no class", so they never matched), untagged stays empty."""
    return "" if labels is None else "|".join(labels) if labels else "no class"


def _file_documents(ctx, record: dict, file: UploadFile | None, columns: uploads.Columns = uploads.NO_COLUMNS) -> list[dict]:
    if file is None or not (file.filename or file.size):
        raise InvalidArgument("Choose a file to classify.")
    cap = min(ctx.settings.max_body_bytes, MAX_TRY_FILE_BYTES)
    data = file.file.read(cap + 1)
    if len(data) > cap:
        raise InvalidArgument(f"{file.filename} is larger than {cap / 2**20:g} MB, the most Try it takes; split it, or classify it "
                              "with tagwise classify, which streams any size.")
    # the limit is checked as the file is read: 3 million one-word rows took 600 MB before it was
    try:
        docs, _ignored = uploads.parse_file(file.filename or "documents.txt", data, record["kind"] == MULTI, limit=MAX_TRY_FILE_DOCUMENTS,
                                            beyond=f"Try it classifies up to {MAX_TRY_FILE_DOCUMENTS:,} (about 10-20 seconds). Split "
                                            "the file, or use tagwise classify, which streams any size.", columns=columns,
                                            classes=record["classes"])
    except InvalidArgument as exc:  # the upload's words: Try it adds nothing, so "nothing was added" misread what it does
        raise InvalidArgument(exc.message.replace("othing was added", "othing was classified")) from None
    for number, doc in enumerate(docs, start=1):  # as an upload checks them: a lone surrogate broke the download
        check_text(doc["text"], doc["location"] or f"{number}", ctx.settings.max_document_characters)
    return docs


def _classified_rows(ctx, project: str, deployment: str, docs: list[dict], decimal: str = ".") -> list[list[str]]:
    """location, text, class(es), confidence(s) (with ``decimal`` as the decimal mark), warning codes
    and error of each document, in file order."""
    served = analyze.serving(ctx, project, deployment)  # one model for the whole file, even if a deploy comes between
    rows: list[list[str]] = []
    for start in range(0, len(docs), 1_000):
        batch = docs[start:start + 1_000]
        # a document without a name is numbered "#n" (a bare number could be another row's id)
        located = [{"id": d["location"] or f"#{start + i + 1}", "text": d["text"], "language": d.get("language")}
                   for i, d in enumerate(batch)]
        result = analyze.classify_documents(ctx, project, deployment, located, served_by=served)
        by_index = {r["index"]: r for r in result["documents"] + result["errors"]}
        for i, doc in enumerate(located):
            answer = by_index[i]
            chosen = answer.get("class", [])
            rows.append([doc["id"], doc["text"], "|".join(c["category"] for c in chosen) or ("" if "error" in answer else "no class"),
                         "|".join(f"{c['confidenceScore']:.4f}".replace(".", decimal) for c in chosen),
                         " ".join(w["code"] for w in answer.get("warnings", [])),
                         answer["error"]["innererror"]["message"] if "error" in answer else ""])
    return rows


def _try(request: Request, project: dict, deployment: str, text: str, status_code: int = 200, **values) -> Response:
    """The Try it page, with the same call as code for the chosen (else the first) deployment."""
    listed = deployments.list_all(context(request), project["name"])
    shown = deployment if any(d["name"] == deployment for d in listed) else (listed[0]["name"] if listed else "")
    code = classify_snippets(str(request.base_url).rstrip("/"), project["name"], shown, project["kind"], text) if shown else None
    return render(request, "try.html", status_code=status_code, project=project, nav="try", deployments=listed, chosen=deployment,
                  text=text, code=code, code_deployment=shown, **{"result": None, **values})
