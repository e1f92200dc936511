"""tagwise's own routes for a project's documents: list them a page at a time, and add some.

Azure has neither: reading documents means a whole-project ``:export``, and ``:import`` replaces
them all. ``tagwise import --append`` exported the whole project, merged and imported it all
again (75.8 s and 880 MB of client memory to add 1,000 documents to 300,000); the POST takes the
new ones alone.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import bool_param, check_key, context, declared_body, json_body
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import PAGING_PARAMETERS, paged, window
from tagwise.api.schemas import DocumentsAdded, DocumentsDeleted, ListedDocumentList, ProjectFile, answers
from tagwise.core import documents
from tagwise.errors import InvalidArgument

router = APIRouter(prefix="/language/tagwise/projects/{project}", dependencies=[Depends(check_key)],
                   tags=["tagwise: documents"], responses=ERROR_RESPONSES)

# Declared for the schema only: list_documents reads them itself (a bad value is an Azure 400, not a 422).
FILTERS: list[dict] = [
    {"name": "dataset", "in": "query", "required": False, "schema": {"type": "string", "enum": ["Train", "Test", "none"]},
     "description": "Only documents in this set (any case); none: in neither set."},
    {"name": "class", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Only documents tagged with this class of the project (an unknown class is a 400)."},
    {"name": "untagged", "in": "query", "required": False, "schema": {"type": "boolean"},
     "description": "true: only documents nobody has tagged yet; false: only tagged ones (a multi-label document tagged with no class is tagged)."},
    {"name": "search", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Only documents whose text or location contains this (case-insensitive); at most 1,000 characters."},
]


@router.get("/documents", summary="List the project's documents with their text, dataset and classes (paged, filtered)",
            responses=answers(ListedDocumentList, "A page of documents."), openapi_extra={"parameters": [*PAGING_PARAMETERS, *FILTERS]})
def list_documents(request: Request, project: str) -> dict:
    """A page of documents in the order they were added, each as a project file has it (``location``,
    ``language``, ``dataset`` when in a set, ``class`` or ``classes`` when tagged, ``text``) plus
    ``tagged``; and an absolute ``nextLink`` to the next page (null on the last)."""
    skip, top, size = window(request)
    query = request.query_params
    untagged = bool_param(request, "untagged") if query.get("untagged") else None
    items, total = documents.list_documents(
        context(request), project, dataset=query.get("dataset") or None, label=query.get("class") or None,
        tagged=None if untagged is None else not untagged, search=query.get("search") or None, limit=size, offset=skip)
    return paged(request, items, skip, top, total)


@router.post("/documents", summary="Add documents from a project file (same location: replaced), all or nothing",
             responses=answers(DocumentsAdded, "What was added, and the project's counts after it."), openapi_extra=declared_body(ProjectFile))
async def append_documents(request: Request, project: str) -> dict:
    """The file's documents join the project's, and its classes the project's classes; a document at
    a location the project has replaces it. Validated whole first: a bad document adds nothing.
    Answers ``documents`` (in the file), ``classes`` and ``projectDocuments`` (of the project after it),
    ``replacedDocuments`` (those at a location the project had) and ``tagsRemoved`` (of these, the
    tagged ones the file has untagged: their tags are gone)."""
    body = await json_body(request)
    return await run_in_threadpool(lambda: documents.import_project(context(request), project, body, append=True))


@router.post("/documents:delete", summary="Delete documents by location, all or nothing",
             responses=answers(DocumentsDeleted, "How many went, and the models trained on them."),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["locations"],
                 "properties": {"locations": {"type": "array", "items": {"type": "string"}, "minItems": 1}}}}}}})
async def delete_documents(request: Request, project: str) -> dict:
    """The documents at ``locations`` go for good, with their texts in the snapshots of the models
    trained on them, in the embedding cache and in the last tag check: all of them, or none when
    one is not in the project (404 naming it). Answers ``deleted`` and ``modelsTrainedOnThem``:
    the models that still carry what they learned from them (delete or retrain those to forget it)."""
    body = await json_body(request)
    locations = body.get("locations") if isinstance(body, dict) else None
    if not isinstance(locations, list) or not locations or not all(isinstance(item, str) for item in locations):
        raise InvalidArgument('Send {"locations": ["...", ...]}: the locations of the documents to delete.', target="locations")
    return await run_in_threadpool(lambda: documents.delete_documents(context(request), project, locations=locations))
