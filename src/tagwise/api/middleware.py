"""The base of tagwise's pure ASGI middleware (body limit, telemetry, error envelope, charset)."""

from __future__ import annotations

from typing import Any


class HttpMiddleware:
    """ASGI middleware that handles HTTP requests in ``http``; other scopes (lifespan, websockets)
    pass through untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        raise NotImplementedError
