"""Authoring: projects, import/export, training config versions, and their job states."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import absolute, api_version, check_key, context, declared_body, json_body, string_index_type
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import ACCEPTED, PAGING_PARAMETERS, accepted, job_state, page
from tagwise.api.schemas import (
    ExportJobState,
    JobState,
    Project,
    ProjectFile,
    ProjectKind,
    ProjectList,
    ProjectSettings,
    SupportedLanguageList,
    TrainingConfigVersionList,
    answers,
)
from tagwise.core import documents, jobs, languages, projects, training
from tagwise.core.validation import check_kind, shown
from tagwise.errors import InvalidArgument

router = APIRouter(prefix="/language/authoring/analyze-text/projects", dependencies=[Depends(check_key)],
                   tags=["authoring: projects"], responses=ERROR_RESPONSES)


# Declared for the schema only: json_body and the services validate it.
class ProjectPatch(BaseModel):
    """Creating a project needs projectKind, language and storageInputContainerName; an update sends what changes."""

    projectKind: ProjectKind | None = Field(None, description="Cannot change once the project exists.")
    language: str | None = Field(None, examples=["en"])
    storageInputContainerName: str | None = Field(None, description="The document container imports read texts from.")
    multilingual: bool | None = Field(None, examples=[False])
    description: str | None = None
    settings: ProjectSettings | None = None


@router.get("", summary="List projects", responses=answers(ProjectList, "A page of projects."),
            openapi_extra={"parameters": PAGING_PARAMETERS})
def list_projects(request: Request, _v: str = Depends(api_version)) -> dict:
    return page(request, [projects.describe(p) for p in projects.list_all(context(request))])


@router.get("/global/training-config-versions", summary="List training config versions (one per model recipe)",
            responses=answers(TrainingConfigVersionList, "A page of training config versions."), openapi_extra={"parameters": PAGING_PARAMETERS})
def list_config_versions(request: Request, _v: str = Depends(api_version)) -> dict:
    _check_kind_param(request)
    return page(request, training.describe_config_versions())


@router.get("/global/languages", summary="List the languages the sentence encoders read",
            responses=answers(SupportedLanguageList, "A page of languages."), openapi_extra={"parameters": PAGING_PARAMETERS})
def list_languages(request: Request, _v: str = Depends(api_version)) -> dict:
    """The languages a sentence encoder was trained on (English: all-MiniLM-L6-v2; the others: the
    multilingual encoder). A project may declare any language code: `linear` reads any language."""
    _check_kind_param(request)
    return page(request, [{"languageName": name, "languageCode": code} for code, name in languages.SUPPORTED_LANGUAGES])


def _check_kind_param(request: Request) -> None:
    """A global list's ``projectKind``: Azure lists one kind's items; tagwise's serve both of its
    kinds alike, and another Azure kind is a 400 that names it."""
    kind = request.query_params.get("projectKind")
    if kind is not None:
        check_kind(kind)


@router.get("/global/deletion-jobs/{job_id}", summary="Project deletion job status", responses=answers(JobState, "The job's state."))
def deletion_job(request: Request, job_id: str, _v: str = Depends(api_version)) -> JSONResponse:
    return job_state(jobs.describe(jobs.get(context(request), job_id, "delete")))


@router.patch(
    "/{project}",
    summary="Create or update a project (JSON merge patch)",
    responses={**answers(Project, "Updated: the project."), **answers(Project, "Created: the project.", 201)},
    openapi_extra=declared_body(ProjectPatch, ("application/merge-patch+json",)),
)
async def upsert_project(request: Request, project: str, _v: str = Depends(api_version)) -> JSONResponse:
    body = await json_body(request)
    record, created = await run_in_threadpool(projects.upsert, context(request), project, body)
    return JSONResponse(projects.describe(record), status_code=201 if created else 200)


@router.get("/{project}", summary="Get a project", responses=answers(Project, "The project."))
def get_project(request: Request, project: str, _v: str = Depends(api_version)) -> dict:
    return projects.describe(projects.get(context(request), project))


@router.delete("/{project}", summary="Delete a project with its documents, models and deployments", **ACCEPTED)
def delete_project(request: Request, project: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    projects.delete(ctx, project)
    job = jobs.record_done(ctx, "delete", None, {"projectName": project})
    return accepted(request, f"/authoring/analyze-text/projects/global/deletion-jobs/{job['id']}", version)


@router.post("/{project}/:import", summary="Import a project file (replaces the project's data, all or nothing)",
             openapi_extra=declared_body(ProjectFile), **ACCEPTED)
async def import_project(request: Request, project: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    form = request.headers.get("format") or request.query_params.get("format")  # the authoring SDK sends a header
    if form is not None and form.lower() != "json":  # Azure also takes "aml" (Azure Machine Learning data labeling)
        raise InvalidArgument(f"The import format {shown(form)} is not supported: tagwise imports Azure's JSON project file "
                              "(format=json, the default).", target="format")
    counts = await run_in_threadpool(documents.import_project, ctx, project, await json_body(request))
    job = await run_in_threadpool(jobs.record_done, ctx, "import", project, {}, result=counts)
    return accepted(request, f"/authoring/analyze-text/projects/{project}/import/jobs/{job['id']}", version)


@router.get("/{project}/import/jobs/{job_id}", summary="Import job status", responses=answers(JobState, "The job's state."))
def import_job(request: Request, project: str, job_id: str, _v: str = Depends(api_version)) -> JSONResponse:
    return job_state(jobs.describe(jobs.get(context(request), job_id, "import", project)))


@router.post("/{project}/:export", summary="Export the project file (with each document's text)", **ACCEPTED)
def export_project(request: Request, project: str, version: str = Depends(api_version),
                   _s: None = Depends(string_index_type)) -> Response:
    ctx = context(request)
    label = request.query_params.get("trainedModelLabel") or None
    if label:  # the documents that model was trained on: checked now, so that their absence is this answer's 404/400
        documents.check_model_export(ctx, project, label)
    else:
        projects.get(ctx, project)
    job = jobs.record_done(ctx, "export", project, {"trainedModelLabel": label})
    return accepted(request, f"/authoring/analyze-text/projects/{project}/export/jobs/{job['id']}", version)


@router.get("/{project}/export/jobs/{job_id}", summary="Export job status (with resultUrl)",
            responses=answers(ExportJobState, "The job's state, with the URL of its result."))
def export_job(request: Request, project: str, job_id: str, version: str = Depends(api_version)) -> JSONResponse:
    job = jobs.get(context(request), job_id, "export", project)
    body = jobs.describe(job)
    body["resultUrl"] = absolute(request, f"/authoring/analyze-text/projects/{project}/export/jobs/{job_id}/result", **{"api-version": version})
    return job_state(body)


@router.get("/{project}/export/jobs/{job_id}/result", summary="The exported project file",
            responses=answers(ProjectFile, "The project file, each document with its text."))
def export_result(request: Request, project: str, job_id: str, _v: str = Depends(api_version)) -> dict:
    ctx = context(request)
    job = jobs.get(ctx, job_id, "export", project)
    return documents.export_project(ctx, project, (job["payload"] or {}).get("trainedModelLabel"))
