"""The web studio at ``/studio``: server-rendered pages over the same services the API calls.

Mount it with ``app.include_router(studio.router)``; its CSS and JS are served by the router
itself (``/studio/static/...``), so nothing else is needed and nothing comes from a CDN.
"""

from tagwise.studio.routes import router

__all__ = ["router"]
