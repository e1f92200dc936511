"""The Data page: upload, list with search and filters, assign to Train/Test, delete."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tagwise.api.errors import retry_headers, status_for, store_refusal
from tagwise.core import documents, projects, tagging
from tagwise.core.csv_header import DATASET_KEYS, LABEL_KEYS, LANGUAGE_KEYS, LOCATION_KEYS, TEXT_KEYS
from tagwise.core.validation import MULTI
from tagwise.errors import Conflict, InvalidArgument, PayloadTooLarge, StoreUnavailable, TagwiseError
from tagwise.studio import spreadsheets, uploads
from tagwise.studio.auth import Session, require_charged_session, require_csrf, require_session
from tagwise.studio.filters import Filters
from tagwise.studio.web import MAX_ID, StudioRoute, context, query, redirect, render, set_flash, wants_json

router = APIRouter(prefix="/studio", route_class=StudioRoute)
PAGE_SIZE = 50
MAX_UPLOAD_DOCUMENTS = 200_000  # one upload (100,000 tickets took 4-9 s); tagwise import takes more
UPLOAD_BEYOND = (f"the studio adds up to {MAX_UPLOAD_DOCUMENTS:,} in one upload. Split the file, or import it with tagwise "
                 "import. Nothing was added.")
# the names the upload reads: a downloaded file uploads again as it is (classes joined by "|")
DOWNLOAD_COLUMNS = ("location", "text", "labels", "dataset", "language")
MAX_PAGE = 10**9  # far past any list; keeps the SQL offset within the store's integers


@router.get("/p/{project}/data", response_class=HTMLResponse)
def data(request: Request, project: str, page: str = "1", _s: Session = Depends(require_session)) -> Response:
    """``page``: a number (past the end: the last page); anything else is the first page, not an error
    page quoting the validator ("Input should be a valid integer, unable to p...")."""
    if page.isascii() and page.isdigit():  # "²" is a digit to isdigit(), and int() of 5,000 digits raises
        page = max(int(page), 1) if len(page) <= 18 else MAX_PAGE  # a huge number: past the end, the last page
    else:
        page = 1
    filters = Filters.read(request.query_params)
    result = tagging.list_documents(context(request), project, filters.to_filter(), page=min(page, MAX_PAGE), page_size=PAGE_SIZE,
                                    mismatch=filters.mismatch)
    if page > result.pages:  # an old link to a list that got shorter, or a typed number: its last page
        return redirect(f"/studio/p/{project}/data" + query(page=result.pages if result.pages > 1 else None, **filters.params()))
    record = projects.get(context(request), project)
    # an upload refused without the page's script comes back here with the columns it named (they were lost)
    columns = {"text": request.query_params.get("text_column"), "labels": request.query_params.get("label_column"),
               "location": request.query_params.get("name_column")}
    return render(request, "data.html", project=record, nav="data", result=result, filters=filters, query=query,
                  taggers=tagging.taggers(context(request), project), columns=columns)


@router.get("/p/{project}/data.csv")
def download(request: Request, project: str, _s: Session = Depends(require_charged_session)) -> Response:
    """The documents the list shows (its filters), with their whole text and classes, as a CSV file a
    spreadsheet opens and the upload reads back: a lead had no way to get the tagged tickets out."""
    filters = Filters.read(request.query_params)
    record = projects.get(context(request), project)  # a project that is not there: its 404 page, not an empty file
    rows = tagging.matching_documents(context(request), record["name"], filters.to_filter(), mismatch=filters.mismatch)
    return spreadsheets.download(request, f"{record['name']}.csv", list(DOWNLOAD_COLUMNS), (
        [d["location"], d["text"], "|".join(d["labels"] or []), d["dataset"] or "", d["language"] or ""] for d in rows))


@router.post("/p/{project}/data/upload")
async def upload(request: Request, project: str, files: list[UploadFile], skip_existing: str = Form(""),
                 text_column: str = Form(""), label_column: str = Form(""), name_column: str = Form(""),
                 _s: Session = Depends(require_csrf)) -> Response:
    """Add the documents of every uploaded file. Answers JSON to the page's script, a redirect otherwise.
    ``text_column``/``label_column``/``name_column``: the columns to read the text, the classes and
    each document's name from, when the file names them otherwise (a Jira export's Summary,
    Priority and Issue key)."""
    json_answer = wants_json(request)
    try:
        columns = uploads.Columns(text_column, label_column, name_column)
        items, ignored = [], {}
        limit = context(request).settings.max_body_bytes
        files = [f for f in files if f.filename or f.size]  # a form sent with no file chosen has one empty part
        if not files:
            raise InvalidArgument("Choose one or more files to upload.")
        record = await run_in_threadpool(projects.get, context(request), project)
        multi = record["kind"] == MULTI
        for file in files:
            data = await file.read()
            if len(data) > limit:
                raise PayloadTooLarge(f"{file.filename} has {len(data):,} bytes; the limit is {limit:,} (TAGWISE_MAX_BODY_BYTES).")
            # counted as the file is read: 3 million one-letter rows took 88 s and the server to 4 GB
            docs, unread = await run_in_threadpool(uploads.parse_file, file.filename or "upload.txt", data, multi,
                                                   MAX_UPLOAD_DOCUMENTS - len(items), UPLOAD_BEYOND, columns, bool(skip_existing),
                                                   record["classes"])
            items.extend(docs)
            ignored.update(dict.fromkeys(unread))
        prefix = PurePath(files[0].filename or "upload").stem or "upload"
        # parsing and storing run in the thread pool: on the event loop a big file held up every request
        result = await run_in_threadpool(tagging.add_documents, context(request), project, items, prefix=prefix,
                                         skip_existing=bool(skip_existing))
    except TagwiseError as exc:
        if json_answer:
            if isinstance(exc, StoreUnavailable):  # the envelope, logged, with Retry-After (the page's script reads both)
                return store_refusal(exc)
            return JSONResponse({"ok": False, "message": exc.message}, status_code=status_for(exc), headers=retry_headers(exc))
        named = {"text_column": text_column, "label_column": label_column, "name_column": name_column}
        if status_for(exc) < 500 and any(named.values()):  # without the page's script: back with the columns still named
            return redirect(f"/studio/p/{project}/data" + query(**{k: v for k, v in named.items() if v}), exc.message, "error")
        raise
    message = f"Added {result['added']:,} document(s)."
    if result.get("skipped"):
        message += f" Skipped {result['skipped']:,} the project already had."
    if untagged := result["untagged"]:
        message += f" {untagged:,} of them {'is' if untagged == 1 else 'are'} untagged."
    if result.get("noClass"):
        message += f' {result["noClass"]:,} of them are tagged "no class".'
    if result["classesAdded"]:  # quoted: "card, payments" read as two classes in a list joined by ", "
        message += f" New classes from the file: {', '.join(repr(c) for c in result['classesAdded'])}."
    if ignored:  # a ticket export's Summary, Priority and Issue key were dropped without a word
        message += (f" Columns not read: {', '.join(repr(c) for c in ignored)} (the upload reads the text from a column named "
                    f"{_names(TEXT_KEYS)}, the classes from {_names(LABEL_KEYS)}, or the columns named under \"Columns\"; the name "
                    f"from {_names(LOCATION_KEYS)}, Train or Test from {_names(DATASET_KEYS)} and the language from "
                    f"{_names(LANGUAGE_KEYS)}).")
    if result.get("copies"):
        message += (f" {result['copies']:,} of them {'has' if result['copies'] == 1 else 'have'} the same text as a document the "
                    "project already had: was the file uploaded before? Search for a text on this page and delete the copies, or "
                    "they count twice.")
    target = f"/studio/p/{project}/data"
    if json_answer:
        response: Response = JSONResponse({"ok": True, "message": message, "redirect": target})
        set_flash(response, message)
        return response
    return redirect(target, message)


def _names(keys: tuple[str, ...]) -> str:
    return ", ".join(keys[:-1]) + f" or {keys[-1]}" if len(keys) > 1 else keys[0]


@router.post("/p/{project}/data/dataset")
async def assign(request: Request, project: str, to: str = Form(""), scope: str = Form("selected"),
                 _s: Session = Depends(require_csrf)) -> Response:
    """Move documents to Train, Test or no set (``to``); the other fields are the list's filters."""
    back, changed, asked = await _on_documents(request, project, scope, "Assign", "apply to",
                                               lambda **which: tagging.set_dataset(context(request), project, to, **which))
    if isinstance(changed, Response):
        return changed
    where = {"Train": "the training set", "Test": "the test set"}.get(to, "no set (a percentage split decides)")
    return redirect(back, f"{changed:,} document(s) moved to {where}." + _gone(asked, changed))


@router.post("/p/{project}/data/unmark")
async def unmark(request: Request, project: str, scope: str = Form("selected", alias="unmark"),
                 _s: Session = Depends(require_csrf)) -> Response:
    """Take back "tag is right" for the selected documents (or, ``unmark=all``, every one the filters match)."""
    back, taken, _asked = await _on_documents(request, project, scope, "Take back", "take back the mark of",
                                              lambda **which: tagging.unmark_tags(context(request), project, **which))
    if isinstance(taken, Response):
        return taken
    if not taken:
        return redirect(back, "None of them was marked right: nothing changed.")
    return redirect(back, f"{taken:,} document(s) no longer marked right: the next tag check may list them again.")


@router.post("/p/{project}/data/delete")
async def delete(request: Request, project: str, scope: str = Form("selected", alias="delete"),
                 _s: Session = Depends(require_csrf)) -> Response:
    """Delete documents for good: the selected ones, or (``delete=all``) every one the list's filters match."""
    back, result, asked = await _on_documents(request, project, scope, "Delete", "delete",
                                              lambda **which: documents.delete_documents(context(request), project, **which))
    if isinstance(result, Response):
        return result
    message = f"Deleted {result['deleted']:,} document(s)." + _gone(asked, result["deleted"])
    if trained := result["modelsTrainedOnThem"]:
        message += " " + documents.models_note(trained)
    return redirect(back, message)


async def _on_documents(request: Request, project: str, scope: str, verb: str, action: str, act) -> tuple[str, Any, int | None]:
    """(the list's address, what ``act`` returned for the ticked documents' ``ids``, or with ``scope``
    "all" for every document the list's filters match, ``flt``, and as many ticked as there were, or None);
    a redirect back when none is ticked. "All" acts only while the documents the page showed match
    (its ``shown``, their digest): a stale page's "Delete all 450 matching" deleted 490."""
    form = await request.form()
    filters = Filters.read(form)
    # back at the list's count, which takes the focus: it went to the top, 30 Tabs from the first row
    back = f"/studio/p/{project}/data" + query(**filters.params()) + "#result-count"
    if scope == "all":
        if filters.mismatch:
            raise InvalidArgument(f"{verb} the mismatched documents by selecting them on the page.")
        shown = str(form.get("shown") or "")[:80]  # the digest of the list the page showed (none: a page older than the server)
        try:
            return back, await run_in_threadpool(lambda: act(flt=filters.to_filter(), matching=shown)), None
        except Conflict as exc:  # the list as it is now, with why nothing was done
            return back, redirect(back, exc.message, "error"), None
    if not (ids := _selected(form)):
        return back, redirect(back, f"Select documents first (or {action} every matching document).", "error"), None
    return back, await run_in_threadpool(lambda: act(ids=ids)), len(set(ids))


def _gone(asked: int | None, done: int) -> str:
    """What a change to the ticked documents says of those deleted since the page showed them."""
    if asked is None or done >= asked:
        return ""
    return f" {asked - done:,} of the {asked:,} selected {'was' if asked - done == 1 else 'were'} no longer there (deleted since the page was shown)."


def _selected(form) -> list[int]:
    """The ids of the ticked documents."""
    try:
        ids = [int(v) for v in form.getlist("ids")]
    except ValueError:
        raise InvalidArgument("The selection is not a list of document ids.") from None
    return [i for i in ids if 0 < i <= MAX_ID]  # past the store's integers no document has it (and SQLite raised)
