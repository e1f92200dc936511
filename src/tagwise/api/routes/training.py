"""Authoring: training jobs (start, status, list, cancel)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import api_version, check_key, context, declared_body, json_body
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import ACCEPTED, PAGING_PARAMETERS, accepted, job_state, page
from tagwise.api.schemas import EvaluationOptions, TrainingJobList, TrainingJobState, answers
from tagwise.core import jobs, projects, training

router = APIRouter(prefix="/language/authoring/analyze-text/projects/{project}", dependencies=[Depends(check_key)],
                   tags=["authoring: training"], responses=ERROR_RESPONSES)


# Declared for the schema only: training.start validates the body (an Azure error, not a 422).
class TrainRequest(BaseModel):
    modelLabel: str = Field(min_length=1, description="The model's name; training it again replaces it.", examples=["m1"])
    trainingConfigVersion: str = Field(
        "latest", description="'latest' or '2022-05-01' (the default recipe), or a recipe name from GET /global/training-config-versions.",
    )
    evaluationOptions: EvaluationOptions | None = None


@router.post("/:train", summary="Start training a model (trainingConfigVersion picks the recipe)",
             openapi_extra=declared_body(TrainRequest), **ACCEPTED)
async def train(request: Request, project: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    job = await run_in_threadpool(training.start, ctx, project, await json_body(request))
    request.app.state.runner.notify()
    return accepted(request, f"/authoring/analyze-text/projects/{project}/train/jobs/{job['id']}", version)


@router.get("/train/jobs", summary="List training jobs", responses=answers(TrainingJobList, "A page of training job states."),
            openapi_extra={"parameters": PAGING_PARAMETERS})
def list_training_jobs(request: Request, project: str, _v: str = Depends(api_version)) -> dict:
    ctx = context(request)
    projects.get(ctx, project)
    return page(request, [training.describe_job(j) for j in jobs.list_for(ctx, "train", project)])


@router.get("/train/jobs/{job_id}", summary="Training job status with percentComplete", responses=answers(TrainingJobState, "The job's state."))
def training_job(request: Request, project: str, job_id: str, _v: str = Depends(api_version)) -> JSONResponse:
    return job_state(training.describe_job(jobs.get(context(request), job_id, "train", project)))


@router.post("/train/jobs/{job_id}/:cancel", summary="Cancel a training job", **ACCEPTED)
def cancel_training(request: Request, project: str, job_id: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    jobs.get(ctx, job_id, "train", project)
    jobs.request_cancel(ctx, job_id, refuse_finished=True)
    return accepted(request, f"/authoring/analyze-text/projects/{project}/train/jobs/{job_id}", version)
