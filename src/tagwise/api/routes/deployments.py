"""Authoring: deployments (deploy, get, list, delete, swap) and their job states; and tagwise's list of
every project's deployments."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import api_version, check_key, context, declared_body, json_body
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import ACCEPTED, PAGING_PARAMETERS, accepted, job_state, page
from tagwise.api.schemas import Deployment, DeploymentList, JobState, ProjectDeploymentList, answers
from tagwise.core import deployments, jobs

project_router = APIRouter(prefix="/language/authoring/analyze-text/projects/{project}/deployments", tags=["authoring: deployments"])
fleet_router = APIRouter(prefix="/language/tagwise/deployments", tags=["tagwise: deployments"])


# Declared for the schema only: the services validate the bodies (an Azure error, not a 422).
class DeployRequest(BaseModel):
    trainedModelLabel: str = Field(min_length=1, description="The trained model to serve under this name.", examples=["m1"])


class SwapRequest(BaseModel):
    firstDeploymentName: str = Field(min_length=1)
    secondDeploymentName: str = Field(min_length=1)


@project_router.get("", summary="List deployments", responses=answers(DeploymentList, "A page of deployments."),
                    openapi_extra={"parameters": PAGING_PARAMETERS})
def list_deployments(request: Request, project: str, _v: str = Depends(api_version)) -> dict:
    return page(request, [deployments.describe(d) for d in deployments.list_all(context(request), project)])


@project_router.post("/:swap", summary="Swap the models of two deployments", openapi_extra=declared_body(SwapRequest), **ACCEPTED)
async def swap(request: Request, project: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    await run_in_threadpool(deployments.swap, ctx, project, await json_body(request))
    job = await run_in_threadpool(jobs.record_done, ctx, "swap", project, {})
    return accepted(request, f"/authoring/analyze-text/projects/{project}/deployments/swap/jobs/{job['id']}", version)


@project_router.get("/swap/jobs/{job_id}", summary="Swap job status", responses=answers(JobState, "The job's state."))
def swap_job(request: Request, project: str, job_id: str, _v: str = Depends(api_version)) -> JSONResponse:
    return job_state(jobs.describe(jobs.get(context(request), job_id, "swap", project)))


@project_router.get("/{deployment}", summary="Get a deployment", responses=answers(Deployment, "The deployment."))
def get_deployment(request: Request, project: str, deployment: str, _v: str = Depends(api_version)) -> dict:
    return deployments.describe(deployments.get(context(request), project, deployment))


@project_router.put("/{deployment}", summary="Deploy a trained model under a name (replaces what the name served)",
            openapi_extra=declared_body(DeployRequest), **ACCEPTED)
async def deploy(request: Request, project: str, deployment: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    deployed = await run_in_threadpool(deployments.deploy, ctx, project, deployment, await json_body(request))
    threading.Thread(target=deployments.warm_up, args=(ctx, project, deployment), name="warm-up", daemon=True).start()
    job = await run_in_threadpool(jobs.record_done, ctx, "deployment", project, {"deploymentName": deployment},
                                  warnings=deployed["warnings"])
    return accepted(request, f"/authoring/analyze-text/projects/{project}/deployments/{deployment}/jobs/{job['id']}", version)


@project_router.delete("/{deployment}", summary="Delete a deployment", **ACCEPTED)
def delete_deployment(request: Request, project: str, deployment: str, version: str = Depends(api_version)) -> Response:
    ctx = context(request)
    deployments.delete(ctx, project, deployment)
    job = jobs.record_done(ctx, "deployment", project, {"deploymentName": deployment})
    return accepted(request, f"/authoring/analyze-text/projects/{project}/deployments/{deployment}/jobs/{job['id']}", version)


@project_router.get("/{deployment}/jobs/{job_id}", summary="Deploy or delete-deployment job status", responses=answers(JobState, "The job's state."))
def deployment_job(request: Request, project: str, deployment: str, job_id: str, _v: str = Depends(api_version)) -> JSONResponse:
    return job_state(jobs.describe(jobs.get(context(request), job_id, "deployment", project)))


@fleet_router.get("", summary="List the deployments of every project (paged)",
                  responses=answers(ProjectDeploymentList, "A page of deployments, each with its project."), openapi_extra={"parameters": PAGING_PARAMETERS})
def list_every_deployment(request: Request) -> dict:
    """Each project's deployments, projects in the order they were created: the Deployment shape
    (model, trained, deployed and expiry dates) with ``projectName`` and ``projectKind``."""
    return page(request, [deployments.describe_with_project(p, d) for p, d in deployments.list_everywhere(context(request))])


# Both under the key check (an authoring key: a runtime key may only classify).
router = APIRouter(dependencies=[Depends(check_key)], responses=ERROR_RESPONSES)
router.include_router(project_router)
router.include_router(fleet_router)
