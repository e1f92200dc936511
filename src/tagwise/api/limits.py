"""The request body limit for every route (``TAGWISE_MAX_BODY_BYTES``), as pure ASGI middleware.

A declared ``Content-Length`` over the limit is refused before the body is read; a body sent
without one (chunked) is counted as it arrives and refused once it passes the limit. Either way
the answer is 413 with the Azure error envelope.
"""

from __future__ import annotations

from typing import Any

from tagwise.api.errors import error_response
from tagwise.api.middleware import HttpMiddleware
from tagwise.errors import PayloadTooLarge


class BodyLimit(HttpMiddleware):
    def __init__(self, app: Any, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        limit = self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await error_response(_too_large(int(declared), limit, declared=True))(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(seen, limit)
            return message

        await self.app(scope, counting_receive, send)


def _too_large(size: int, limit: int, *, declared: bool = False) -> PayloadTooLarge:
    read = f"its Content-Length says {size:,}" if declared else f"{size:,} so far"
    return PayloadTooLarge(f"The request body has more than {limit:,} bytes ({read}); the limit is TAGWISE_MAX_BODY_BYTES.")
