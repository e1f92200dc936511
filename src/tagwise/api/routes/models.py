"""Authoring: trained models and their evaluation."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from tagwise.api.deps import api_version, check_key, context, string_index_type
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import PAGING_PARAMETERS, page
from tagwise.api.schemas import DocumentEvaluationList, EvaluationSummary, TrainedModel, TrainedModelList, answers
from tagwise.core import models

router = APIRouter(prefix="/language/authoring/analyze-text/projects/{project}/models", dependencies=[Depends(check_key)], tags=["authoring: models"],
                   responses=ERROR_RESPONSES)


@router.get("", summary="List trained models", responses=answers(TrainedModelList, "A page of trained models."),
            openapi_extra={"parameters": PAGING_PARAMETERS})
def list_models(request: Request, project: str, _v: str = Depends(api_version)) -> dict:
    return page(request, [models.describe(m) for m in models.list_all(context(request), project)])


@router.get("/{label}", summary="Get a trained model", responses=answers(TrainedModel, "The trained model."))
def get_model(request: Request, project: str, label: str, _v: str = Depends(api_version)) -> dict:
    return models.describe(models.get(context(request), project, label))


@router.delete("/{label}", status_code=204, summary="Delete a trained model (409 while deployed)")
def delete_model(request: Request, project: str, label: str, _v: str = Depends(api_version)) -> Response:
    models.delete(context(request), project, label)
    return Response(status_code=204)


@router.get("/{label}/evaluation/summary-result", summary="Evaluation summary: micro/macro scores, per class, confusion matrix",
            responses=answers(EvaluationSummary, "The evaluation summary."))
def evaluation_summary(request: Request, project: str, label: str, _v: str = Depends(api_version)) -> dict:
    return models.get(context(request), project, label)["evaluation"]


@router.get("/{label}/evaluation/result", summary="Per-document evaluation results (test set), paged",
            responses=answers(DocumentEvaluationList, "A page of test documents' results."), openapi_extra={"parameters": PAGING_PARAMETERS})
def evaluation_results(request: Request, project: str, label: str, _v: str = Depends(api_version),
                       _s: None = Depends(string_index_type)) -> dict:
    return page(request, models.get(context(request), project, label)["evaluation_results"])
