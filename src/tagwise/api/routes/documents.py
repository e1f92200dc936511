"""tagwise's own route for adding documents to a project: Azure's ``:import`` replaces them all.

``tagwise import --append`` exported the whole project, merged and imported it all again (75.8 s
and 880 MB of client memory to add 1,000 documents to 300,000); this takes the new ones alone.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import check_key, context, declared_body, json_body
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.routes.projects import ProjectFile
from tagwise.core import documents

router = APIRouter(prefix="/language/tagwise/projects/{project}", dependencies=[Depends(check_key)],
                   tags=["tagwise: documents"], responses=ERROR_RESPONSES)


@router.post("/documents", summary="Add documents from a project file (same location: replaced), all or nothing",
             openapi_extra=declared_body(ProjectFile))
async def append_documents(request: Request, project: str) -> dict:
    """The file's documents join the project's, and its classes the project's classes; a document at
    a location the project has replaces it. Validated whole first: a bad document adds nothing.
    Answers ``documents`` (in the file), ``classes`` and ``projectDocuments`` (of the project after it)."""
    body = await json_body(request)
    return await run_in_threadpool(lambda: documents.import_project(context(request), project, body, append=True))
