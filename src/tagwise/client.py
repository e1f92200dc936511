"""A small HTTP client for a remote tagwise server (what ``tagwise --endpoint URL`` uses).

It speaks the same Azure-compatible API as the official SDKs and returns the same JSON shapes
the services' ``describe`` functions produce, so callers need not care where a project lives.
Error envelopes become :class:`RemoteError`, a :class:`~tagwise.errors.TagwiseError`.

>>> client = Client("http://127.0.0.1:8080", key="...")        # doctest: +SKIP
>>> [p["projectName"] for p in client.list_projects()]           # doctest: +SKIP
['banking']
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from typing import Any, Self
from urllib.parse import quote

import httpx

from tagwise.errors import NOT_IN_TAGWISE, InvalidArgument, TagwiseError

API_VERSION = "2023-04-01"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
AUTHORING = "/language/authoring/analyze-text/projects"
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "partiallyCompleted"})
MAX_RETRIES = 20
MAX_RETRIES_UNAVAILABLE = 6  # 503s (Retry-After: 5): about 30 s
UNREACHABLE_WAIT_S = 30.0  # polls and classifications: a server restarting is away 7-15 s (operations.md)


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.1), 60.0)
    except ValueError:
        return 1.0


def _read_only(response: httpx.Response) -> bool:
    """Whether a 503 says the server's store refuses writes (innererror ``StoreReadOnly``)."""
    try:
        return response.json()["error"]["innererror"]["code"] == "StoreReadOnly"
    except (ValueError, KeyError, TypeError):
        return False


class RemoteError(TagwiseError):
    """An error envelope from the server (or no answer at all); ``status`` is the HTTP status or None;
    ``unreachable``: no connection could be made, or the server dropped it unanswered (a restart),
    as opposed to an answer that took longer than the timeout."""

    def __init__(self, message: str, *, code: str = "InternalServerError", status: int | None = None,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.unreachable = unreachable


class Client:
    """Authoring and runtime calls against ``endpoint`` with the API ``key``."""

    def __init__(self, endpoint: str, key: str, *, timeout_s: float = 300.0, poll_s: float = 0.5,
                 transport: httpx.BaseTransport | None = None,
                 on_retry: Callable[[httpx.Response, float], None] | None = None,
                 on_lost: Callable[[RemoteError], None] | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.poll_s = poll_s
        self.on_retry = on_retry  # told of each 429 or 503 and the seconds it waits before sending again
        self.on_lost = on_lost  # told when a poll or a classification finds the server unreachable, and waits for it
        self._http = httpx.Client(base_url=self.endpoint, headers={KEY_HEADER: key}, timeout=timeout_s, transport=transport)
        self.reached = False  # whether the server ever answered: an endpoint never reached is not waited for

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def request(self, method: str, url: str, *, json: Any = None, params: dict[str, Any] | None = None) -> httpx.Response:
        """Send one request; raise :class:`RemoteError` unless the status is 2xx."""
        query = {"api-version": API_VERSION, **(params or {})} if not url.startswith("http") else params
        url = self._rebased(url)
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self._http.request(method, url, json=json, params=query)
            except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") in a text: a traceback from the JSON encoder
                raise InvalidArgument(f"A text to send is not valid Unicode ({exc.reason} at character {exc.start:,} of "
                                      f"{exc.object[max(exc.start - 20, 0):exc.start]!r}...): fix the file's encoding.") from None
            except httpx.HTTPError as exc:
                where = self.endpoint if not url.startswith("http") else url.split("/language/")[0]
                # refused, timed out connecting, reset (a server stopping mid-request: ReadError) or dropped unanswered
                lost = isinstance(exc, httpx.NetworkError | httpx.ConnectTimeout | httpx.RemoteProtocolError)
                raise RemoteError(f"cannot reach the tagwise server at {where}{_through_proxy(where)}: {exc}", unreachable=lost) from None
            self.reached = True
            if response.status_code not in (429, 503) or attempt == MAX_RETRIES:
                break
            if _read_only(response):  # waiting does not fix it
                break
            if response.status_code == 503 and attempt == MAX_RETRIES_UNAVAILABLE:
                break  # the store has been away for half a minute: say so rather than wait on
            # Rate limited (TAGWISE_RATE_LIMIT_PER_MINUTE), or the server's store is away for a moment
            # (nothing was done): wait as told and send it again, as the Azure SDKs do.
            wait_s = _retry_after(response)
            if self.on_retry is not None:
                self.on_retry(response, wait_s)
            time.sleep(wait_s)
        if response.is_success:
            if response.content and response.headers.get("content-type", "").startswith("text/html"):
                # another web server's page, answered 200: each caller's .json() ended in a 40-line traceback
                raise RemoteError(_not_ours(response), code="InternalServerError", status=response.status_code)
            return response
        try:
            error = response.json()["error"]
            code, message = error.get("code", "InternalServerError"), error.get("message") or response.text
        except (ValueError, KeyError, TypeError, AttributeError):
            code, message = "InternalServerError", _not_ours(response)
        raise RemoteError(message, code=code, status=response.status_code)

    def _rebased(self, url: str) -> str:
        """A URL the server handed back (``Operation-Location``, ``resultUrl``, ``nextLink``) on this
        client's endpoint, its API path (from ``/language/``) kept; one without that path as it is.
        A server behind a proxy writes them with its public address (``TAGWISE_PUBLIC_URL``), which
        a client on the server's own host or network may not reach (a CLI on 127.0.0.1 failed its
        training's first poll, though the training went on)."""
        if not url.startswith("http") or url.startswith(self.endpoint + "/"):
            return url
        _, found, rest = url.partition("/language/")
        return f"{self.endpoint}/language/{rest}" if found else url

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        body = self.request("GET", path, params=params).json()
        while True:
            yield from body.get("value", [])
            if not body.get("nextLink"):
                return
            body = self.request("GET", body["nextLink"]).json()

    def wait(self, operation_url: str, on_update: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Poll a long-running operation until it ends; raise if it failed or was cancelled. A server
        that cannot be reached is asked again (:meth:`_asking_again`): restarted, it queues a training
        again and finishes it, and an import had landed (a nightly script's training and import ended
        in "cannot reach" at one refused poll, and its retry got "already training")."""
        where = operation_url if operation_url.startswith("http") else self.endpoint + operation_url
        while True:
            state = self._asking_again(lambda: self.request("GET", operation_url), f"the operation may go on there: {where}").json()
            if on_update is not None:
                on_update(state)
            if state.get("status") in TERMINAL:
                break
            time.sleep(self.poll_s)
        if state["status"] in ("failed", "cancelled"):
            errors = state.get("errors") or []
            message = errors[0].get("message") if errors else f"the operation was {state['status']}"
            raise RemoteError(message, code=(errors[0].get("code") if errors else "Cancelled") or "InternalServerError")
        return state

    def _asking_again(self, send: Callable[[], httpx.Response], then: str | None = None) -> httpx.Response:
        """``send()``, asked again for up to ``UNREACHABLE_WAIT_S`` while the server cannot be reached
        or a proxy answers 502 or 504 for it (a restart is away 7-15 s, operations.md), for requests
        that change nothing: polls and classifications. ``on_lost`` is told once per outage;
        ``then``: what the final error adds."""
        lost_since = None
        while True:
            try:
                return send()
            except RemoteError as exc:
                # a proxy's 502 or 504 while the server restarts, or no connection to a server that answered before; not the
                # server's own word, nor an answer slower than the timeout (sent again, a slow batch took 601 s to fail), nor
                # an endpoint never reached (a typo waited 31 s)
                if not (exc.status in (502, 504) or (exc.unreachable and self.reached)):
                    raise
                if lost_since is None:
                    lost_since = time.monotonic()
                    if self.on_lost is not None:
                        self.on_lost(exc)
                elif time.monotonic() - lost_since > UNREACHABLE_WAIT_S:
                    raise RemoteError(f"{exc.message}; {then}" if then else exc.message, status=exc.status, unreachable=exc.unreachable) from None
                time.sleep(1.0)

    def _operation(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> str:
        response = self.request(method, path, json=body, params=params)
        location = response.headers.get("Operation-Location")
        if not location:
            raise RemoteError(f"{method} {path} answered {response.status_code} without an Operation-Location header")
        return location

    # -- API keys ---------------------------------------------------------------------------

    def create_key(self, name: str, role: str, rate_limit_per_minute: int | None = None) -> dict[str, Any]:
        body = {"name": name, "role": role, "rateLimitPerMinute": rate_limit_per_minute}
        return self.request("POST", "/language/tagwise/keys", json=body).json()

    def list_keys(self) -> list[dict[str, Any]]:
        return list(self._pages("/language/tagwise/keys"))

    def revoke_key(self, key_id: str) -> None:
        self.request("DELETE", f"/language/tagwise/keys/{quote(key_id, safe='')}")

    # -- projects ---------------------------------------------------------------------------

    def list_projects(self) -> list[dict[str, Any]]:
        return list(self._pages(AUTHORING))

    def get_project(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"{AUTHORING}/{name}").json()

    def upsert_project(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", f"{AUTHORING}/{name}", json=body).json()

    def delete_project(self, name: str) -> None:
        self.wait(self._operation("DELETE", f"{AUTHORING}/{name}"))

    def import_project(self, name: str, project_file: dict[str, Any]) -> dict[str, Any]:
        return self.wait(self._operation("POST", f"{AUTHORING}/{name}/:import", project_file))

    def append_documents(self, name: str, project_file: dict[str, Any]) -> dict[str, Any]:
        """Add the file's documents to the project's (same location: replaced): ``{"documents",
        "classes", "projectDocuments", "replacedDocuments", "tagsRemoved"}`` (the last two absent from
        servers before 2026-11-28). A server older than this route (2026-11-27) has none: then
        the project is exported, merged and imported whole, as it was before."""
        try:
            return self.request("POST", f"/language/tagwise/projects/{name}/documents", json=project_file).json()
        except RemoteError as exc:
            if not _route_missing(exc):
                raise
        current = self.export_project(name)
        documents = current["assets"].get("documents", [])
        mine = {d["location"] for d in project_file["assets"].get("documents", [])}
        merged = copy.deepcopy(project_file)  # the caller's file stays as it was
        merged["assets"]["documents"] = [d for d in documents if d["location"] not in mine] + merged["assets"].get("documents", [])
        known = {c["category"] for c in merged["assets"].get("classes", [])}
        merged["assets"]["classes"] = [c for c in current["assets"].get("classes", []) if c["category"] not in known] + \
            merged["assets"].get("classes", [])
        self.import_project(name, merged)
        had = {d["location"]: d for d in documents if d["location"] in mine}
        removed = sum(1 for d in project_file["assets"].get("documents", []) if d["location"] in had and _tagged(had[d["location"]])
                      and not _tagged(d))
        return {"documents": len(mine), "classes": len(merged["assets"]["classes"]), "projectDocuments": len(merged["assets"]["documents"]),
                "replacedDocuments": len(had), "tagsRemoved": removed}

    def list_documents(self, name: str, *, dataset: str | None = None, label: str | None = None, untagged: bool | None = None,
                       search: str | None = None, top: int | None = None, skip: int = 0) -> list[dict[str, Any]]:
        """The project's documents in the order they were added, page after page: each with
        ``location``, ``language``, ``dataset`` (absent: in neither set), ``class``/``classes``
        (absent: untagged), ``text`` and ``tagged``. Filters: ``dataset`` Train, Test or none;
        ``label`` a class; ``untagged`` True/False; ``search`` in text or location. ``top``: at
        most this many (default: all of them); ``skip``: pass over this many first."""
        filters = {"dataset": dataset, "class": label, "search": search, "top": top, "skip": skip or None,
                   "untagged": None if untagged is None else str(untagged).lower()}
        return list(self._pages(f"/language/tagwise/projects/{quote(name, safe='')}/documents",
                                {k: v for k, v in filters.items() if v is not None}))

    def delete_documents(self, name: str, locations: list[str]) -> dict[str, Any]:
        """Delete the documents at ``locations`` for good, all of them or none (a 404 names those the project
        lacks): ``{"deleted": n, "modelsTrainedOnThem": [labels]}``, the models that keep what they learned from them."""
        try:
            return self.request("POST", f"/language/tagwise/projects/{quote(name, safe='')}/documents:delete",
                                json={"locations": locations}).json()
        except RemoteError as exc:
            if _route_missing(exc) and exc.message.startswith(NOT_IN_TAGWISE[:30]):  # a missing document is a NotFound too
                raise RemoteError(f"The server at {self.endpoint} cannot delete documents: it runs a tagwise older than that "
                                  "(upgrade it); nothing was deleted.", code=exc.code, status=exc.status) from None
            raise

    def export_project(self, name: str, model: str | None = None) -> dict[str, Any]:
        """The project file; with ``model``, the documents that model was trained and tested on."""
        params = {"stringIndexType": "Utf16CodeUnit", **({"trainedModelLabel": model} if model else {})}
        state = self.wait(self._operation("POST", f"{AUTHORING}/{name}/:export", params=params))
        return self.request("GET", state["resultUrl"]).json()

    # -- training, models, deployments ------------------------------------------------------

    def start_training(self, name: str, body: dict[str, Any]) -> str:
        """Queue a training job; returns its operation URL (poll it with :meth:`wait`)."""
        return self._operation("POST", f"{AUTHORING}/{name}/:train", body)

    def list_models(self, name: str) -> list[dict[str, Any]]:
        return list(self._pages(f"{AUTHORING}/{name}/models"))

    def evaluation_summary(self, name: str, label: str) -> dict[str, Any]:
        return self.request("GET", f"{AUTHORING}/{name}/models/{label}/evaluation/summary-result").json()

    def list_deployments(self, name: str) -> list[dict[str, Any]]:
        return list(self._pages(f"{AUTHORING}/{name}/deployments"))

    def list_all_deployments(self) -> list[dict[str, Any]]:
        """Every project's deployments (each with ``projectName`` and ``projectKind``). A server older
        than its route (2026-11-27) has none: then each project's list is read, as before."""
        try:
            return list(self._pages("/language/tagwise/deployments"))
        except RemoteError as exc:
            if not _route_missing(exc):
                raise
        return [{"projectName": p["projectName"], "projectKind": p["projectKind"], **d}
                for p in self.list_projects() for d in self.list_deployments(p["projectName"])]

    def deploy(self, name: str, deployment: str, label: str) -> dict[str, Any]:
        self.wait(self._operation("PUT", f"{AUTHORING}/{name}/deployments/{deployment}", {"trainedModelLabel": label}))
        return self.request("GET", f"{AUTHORING}/{name}/deployments/{deployment}").json()

    def delete_model(self, name: str, label: str) -> None:
        """Delete a trained model (a 409 Conflict while a deployment serves it)."""
        self.request("DELETE", f"{AUTHORING}/{name}/models/{label}")

    def delete_deployment(self, name: str, deployment: str) -> None:
        self.wait(self._operation("DELETE", f"{AUTHORING}/{name}/deployments/{deployment}"))

    def swap_deployments(self, name: str, first: str, second: str) -> None:
        """Each of the two deployments serves the other's model from then on."""
        body = {"firstDeploymentName": first, "secondDeploymentName": second}
        self.wait(self._operation("POST", f"{AUTHORING}/{name}/deployments/:swap", body))

    # -- runtime ----------------------------------------------------------------------------

    def classify(self, name: str, deployment: str, documents: list[dict[str, str]], top: int | None = None) -> dict[str, Any]:
        """The synchronous route: up to the server's TAGWISE_MAX_SYNC_DOCUMENTS (default 1,000) per call."""
        body: dict[str, Any] = {"documents": documents}
        if top:
            body["top"] = top
        # asked again while a restart makes the server unreachable: a classification changes nothing (a nightly
        # classify stopped at the first refused connection, and only a rerun went on)
        path = f"/language/tagwise/projects/{name}/deployments/{deployment}:classify"
        return self._asking_again(lambda: self.request("POST", path, json=body)).json()


def _route_missing(exc: RemoteError) -> bool:
    """Whether a server answered that it has no such route (404 NotFound: a tagwise older than the
    route); ProjectNotFound and every other error are the request's own."""
    return exc.status == 404 and exc.code == "NotFound"


def _tagged(doc: dict[str, Any]) -> bool:
    """Whether a project file's document carries a tag (a multi-label ``"classes": []`` is "no class")."""
    return doc.get("class") is not None or doc.get("classes") is not None


def _not_ours(response: httpx.Response) -> str:
    """One line for an answer without the Azure error envelope: another web server (an HTML page of
    ten lines was the CLI's "one-line" error), a proxy's 502 page, or a server that broke."""
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind == "text/html" or response.text.lstrip().startswith("<"):
        url = response.url
        where = f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}{url.path}"  # no user:password written in the URL
        return (f"{where} answered HTTP {response.status_code} with a web page ({kind or 'HTML'}), "
                "where tagwise answers JSON: is the endpoint a tagwise server (or a proxy in front of one that is down)?")
    return f"HTTP {response.status_code}: {' '.join(response.text[:200].split())}"


def _through_proxy(endpoint: str) -> str:
    """" through the proxy P (...)" when the environment sends requests to ``endpoint`` through a
    proxy, as httpx does (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY; NO_PROXY skips it): a proxy that cannot
    reach the server, often a company's that does not see 127.0.0.1, read as the server being down."""
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(endpoint)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return ""
    shown = urllib.parse.urlsplit(proxy)
    if shown.password:  # its password would reach a CI log
        proxy = shown._replace(netloc=shown.netloc.replace(f":{shown.password}@", ":***@", 1)).geturl()
    return f" through the proxy {proxy} (from {parts.scheme.upper()}_PROXY or ALL_PROXY; NO_PROXY={parts.hostname} goes around it)"
