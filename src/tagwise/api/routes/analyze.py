"""Runtime: asynchronous analyze-text jobs (Azure) and the synchronous :classify route (tagwise)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import absolute, api_version, bool_param, check_key, context, declared_body, int_param, json_body
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import ACCEPTED, PAGING_PARAMETERS, accepted, job_state
from tagwise.api.schemas import AnalyzeTextJobState, ClassifyResponse, answers
from tagwise.core import analyze, jobs
from tagwise.errors import InvalidArgument

router = APIRouter(dependencies=[Depends(check_key)], responses=ERROR_RESPONSES)


# The bodies are declared for the schema only: the routes validate them (an Azure error, not a 422).
class AnalyzeDocument(BaseModel):
    id: str = Field(min_length=1, description="Caller's id, echoed in the result; unique within the request.")
    text: str
    language: str | None = None


class AnalyzeInput(BaseModel):
    documents: list[AnalyzeDocument] = Field(min_length=1, description="1 to TAGWISE_MAX_DOCUMENTS_PER_REQUEST (default 25) documents.")


class TaskParameters(BaseModel):
    projectName: str
    deploymentName: str


class AnalyzeTask(BaseModel):
    kind: Literal["CustomSingleLabelClassification", "CustomMultiLabelClassification"]
    taskName: str | None = None
    parameters: TaskParameters


class AnalyzeRequest(BaseModel):
    displayName: str | None = None
    analysisInput: AnalyzeInput
    tasks: list[AnalyzeTask] = Field(min_length=1)


@router.post("/language/analyze-text/jobs", tags=["runtime"], summary="Submit documents for classification (asynchronous, Azure)",
             openapi_extra=declared_body(AnalyzeRequest), **ACCEPTED)
async def submit(request: Request, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    body = await json_body(request, characters=ctx.settings.max_characters_per_request)
    job = await run_in_threadpool(analyze.submit, ctx, body, request.state.api_key.id)
    request.app.state.runner.notify()
    return accepted(request, f"/analyze-text/jobs/{job['id']}", version)


SHOW_STATS = {"name": "showStats", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
              "description": "Add document and transaction counts to the results."}


@router.get("/language/analyze-text/jobs/{job_id}", tags=["runtime"], summary="Analyze job status and results (paged by top/skip)",
            responses=answers(AnalyzeTextJobState, "The job's state, and a page of its documents' results once it has ended."),
            openapi_extra={"parameters": [*PAGING_PARAMETERS[:2], SHOW_STATS]})
def job_status(request: Request, job_id: str, version: str = Depends(api_version)) -> JSONResponse:
    ctx = context(request)
    show_stats = bool_param(request, "showStats")
    top = int_param(request, "top", None, minimum=1)
    skip = int_param(request, "skip", 0) or 0
    body, next_page = analyze.describe_job(jobs.get(ctx, job_id, "analyze"), top=top, skip=skip, show_stats=show_stats,
                                           page_size=ctx.settings.max_documents_per_request)
    if next_page:
        # showStats kept: the next page came without statistics (the SDK follows nextLink as given)
        stats = {"showStats": "true"} if show_stats else {}
        body["nextLink"] = absolute(request, f"/analyze-text/jobs/{job_id}",
                                    **{"api-version": version, **stats, "top": next_page[0], "skip": next_page[1]})
    return job_state(body)


@router.post("/language/analyze-text/jobs/{job_id}:cancel", tags=["runtime"], summary="Cancel an analyze job", **ACCEPTED)
def cancel(request: Request, job_id: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    jobs.get(ctx, job_id, "analyze")
    jobs.request_cancel(ctx, job_id, refuse_finished=True)
    return accepted(request, f"/analyze-text/jobs/{job_id}", version)


class ClassifyDocument(BaseModel):
    id: str = Field(min_length=1, description="Caller's id, echoed in the result; unique within the request.")
    text: str = Field(description="The text to classify.")
    language: str | None = None


class ClassifyRequest(BaseModel):
    documents: list[ClassifyDocument] = Field(min_length=1, description="1 to TAGWISE_MAX_SYNC_DOCUMENTS (default 1,000) documents.")
    top: int | None = Field(None, ge=1, description="Also list the next best classes, up to this many entries per document. The chosen classes are always all listed, so a multi-label document may have more.")


@router.post(
    "/language/tagwise/projects/{project}/deployments/{deployment}:classify",
    tags=["tagwise: runtime"],
    summary="Classify up to 1,000 texts synchronously (low latency)",
    responses=answers(ClassifyResponse, "Each document's classes, or its error."),
    openapi_extra=declared_body(ClassifyRequest),
)
async def classify(request: Request, project: str, deployment: str) -> JSONResponse:
    ctx = context(request)
    body = await json_body(request, characters=ctx.settings.max_sync_characters)
    if not isinstance(body, dict):
        raise InvalidArgument("The body must be a JSON object: {\"documents\": [{\"id\": \"1\", \"text\": \"...\"}]}.")
    top = body.get("top")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 1):
        raise InvalidArgument("top must be a whole number of at least 1.", target="top")
    docs = analyze.check_documents(body.get("documents"), ctx.settings.max_sync_documents, ctx.settings.max_sync_characters, field="documents")
    # the model runs in the thread pool: on the event loop it held up every other request of this process
    results = await run_in_threadpool(analyze.classify_documents, ctx, project, deployment, docs, top=top)
    request.app.state.metrics.classified("classify", len(results["documents"]))
    results.pop("kind")
    for key in ("documents", "errors"):
        for item in results[key]:
            item.pop("index", None)
    return JSONResponse(results)
