"""The studio's routes, one module per part of the studio, gathered into one router."""

from fastapi import APIRouter

from tagwise.studio.routes import assets, compare, data, models, projects, tag
from tagwise.studio.web import StudioRoute

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
for module in (assets, projects, data, tag, models, compare):
    router.include_router(module.router, include_in_schema=False)

__all__ = ["router"]
