"""Where a command's work happens: the local store (services in-process) or a remote server.

Both backends answer with the API's JSON shapes, so the commands print the same thing either way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tagwise.errors import TagwiseError

WAITING_NOTE_S = 15.0  # a remote training still not started after this long gets a note saying why it may wait

if TYPE_CHECKING:
    from tagwise.settings import Settings

PercentCallback = Callable[[int], None]
# How the :classify route refuses a request over TAGWISE_MAX_SYNC_DOCUMENTS or _CHARACTERS (core/analyze.py check_documents);
# the error envelope has no field with the limit, so it is read from the message.
_DOCUMENT_LIMIT = re.compile(r"The request has \d+ documents; the limit is (\d+) per request")
_CHARACTER_LIMIT = re.compile(r"The documents have [\d,]+ characters in all; the limit is ([\d,]+) per request")


ACTIVE = ("notStarted", "running", "cancelling")  # a training job in one of these blocks the next one
FOLLOWED = ("notStarted", "running")  # of those, the ones train --follow follows to their end


def _length(document: dict[str, str]) -> int:
    return len(document.get("text") or "")


def _characters(documents: list[dict[str, str]]) -> int:
    return sum(map(_length, documents))


def _split(documents: list[dict[str, str]], max_documents: int | None, max_characters: int | None) -> list[list[dict[str, str]]]:
    """``documents`` in order, in parts of at most ``max_documents`` and ``max_characters`` (a longer
    document goes alone: ``_classify_part`` makes it that document's error)."""
    parts: list[list[dict[str, str]]] = [[]]
    size = 0
    for doc in documents:
        length = _length(doc)
        full = (max_documents is not None and len(parts[-1]) >= max_documents) or (max_characters is not None and size + length > max_characters)
        if parts[-1] and full:
            parts.append([])
            size = 0
        parts[-1].append(doc)
        size += length
    return parts


class Backend(Protocol):
    where: str

    def list_projects(self) -> list[dict[str, Any]]: ...
    def get_project(self, name: str) -> dict[str, Any]: ...
    def upsert_project(self, name: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def delete_project(self, name: str) -> None: ...
    def import_project(self, name: str, project_file: dict[str, Any], append: bool = False) -> dict[str, Any]: ...
    def export_project(self, name: str, model: str | None = None) -> dict[str, Any]: ...
    def list_documents(self, name: str, *, dataset: str | None = None, label: str | None = None, untagged: bool | None = None,
                       search: str | None = None, top: int | None = None, skip: int = 0) -> list[dict[str, Any]]: ...
    def delete_documents(self, name: str, locations: list[str]) -> dict[str, Any]: ...
    def start_training(self, name: str, body: dict[str, Any]) -> str: ...
    def wait_training(self, name: str, job: str, on_percent: PercentCallback) -> dict[str, Any]: ...
    def cancel_training(self, name: str) -> list[dict[str, Any]]: ...
    def active_training(self, name: str) -> tuple[str, str] | None: ...
    def list_models(self, name: str) -> list[dict[str, Any]]: ...
    def evaluation_summary(self, name: str, label: str) -> dict[str, Any]: ...
    def list_deployments(self, name: str) -> list[dict[str, Any]]: ...
    def list_all_deployments(self) -> list[dict[str, Any]]: ...
    def deploy(self, name: str, deployment: str, label: str) -> dict[str, Any]: ...
    def delete_model(self, name: str, label: str) -> None: ...
    def delete_deployment(self, name: str, deployment: str) -> None: ...
    def swap_deployments(self, name: str, first: str, second: str) -> None: ...
    def classify(self, name: str, deployment: str, documents: list[dict[str, str]], top: int | None) -> dict[str, Any]: ...
    def close(self) -> None: ...


def overall_percent(state: dict[str, Any]) -> int:
    """One 0-100 number from a training job state (training is 85 % of the work, evaluation 15 %)."""
    result = state.get("result") or {}
    train = (result.get("trainingStatus") or {}).get("percentComplete", 0)
    evaluation = (result.get("evaluationStatus") or {}).get("percentComplete", 0)
    return 100 if state.get("status") == "succeeded" else int(0.85 * train + 0.15 * evaluation)


def _raise_if_failed(state: dict[str, Any], name: str) -> dict[str, Any]:
    if state["status"] == "succeeded":
        return state
    errors = state.get("errors") or []
    raise TagwiseError(errors[0]["message"] if errors else _ended(name, state))


def _ended(name: str, state: dict[str, Any]) -> str:
    """A training that ended without an error, named (a script's log read "the operation was cancelled")."""
    model = (state.get("result") or {}).get("modelLabel")
    return f"the training of {name}{'/' + model if model else ''} was {state['status']} (by tagwise train {name} --cancel, or in the studio)"


class LocalBackend:
    """The services on the local store, as the server calls them."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        from tagwise.core.context import Context

        self.ctx = Context.open(settings, migrate=migrate)
        self.where = f"data dir {settings.data_dir}"
        if self.ctx.upgraded:  # `serve` logs it; a listing that upgraded the store under a running older server said nothing
            from tagwise.cli.common import err

            err().print(f"note: upgraded the store's schema from {self.ctx.upgraded[0]} to {self.ctx.upgraded[1]}; an older "
                        "tagwise refuses this store now (docs/operations.md: Upgrading)", markup=False)

    def close(self) -> None:
        self.ctx.close()

    def create_key(self, name: str, role: str, rate_limit_per_minute: int | None = None) -> dict[str, Any]:
        from tagwise.core import keys

        return keys.describe(*keys.create(self.ctx, name, role, rate_limit_per_minute))

    def list_keys(self) -> list[dict[str, Any]]:
        from tagwise.core import keys

        return [keys.describe(k) for k in keys.list_all(self.ctx)]

    def revoke_key(self, key_id: str) -> None:
        from tagwise.core import keys

        keys.revoke(self.ctx, key_id)

    def list_projects(self) -> list[dict[str, Any]]:
        from tagwise.core import projects

        return [projects.describe(p) for p in projects.list_all(self.ctx)]

    def get_project(self, name: str) -> dict[str, Any]:
        from tagwise.core import projects

        return projects.describe(projects.get(self.ctx, name))

    def upsert_project(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        from tagwise.core import projects

        return projects.describe(projects.upsert(self.ctx, name, body)[0])

    def delete_project(self, name: str) -> None:
        from tagwise.core import projects

        projects.delete(self.ctx, name)

    def import_project(self, name: str, project_file: dict[str, Any], append: bool = False) -> dict[str, Any]:
        from tagwise.core import documents

        return documents.import_project(self.ctx, name, project_file, append=append)

    def export_project(self, name: str, model: str | None = None) -> dict[str, Any]:
        from tagwise.core import documents

        return documents.export_project(self.ctx, name, model)

    def list_documents(self, name: str, *, dataset: str | None = None, label: str | None = None, untagged: bool | None = None,
                       search: str | None = None, top: int | None = None, skip: int = 0) -> list[dict[str, Any]]:
        """What ``GET /language/tagwise/projects/{p}/documents`` pages through, read in parts of 1,000."""
        from tagwise.core import documents

        found: list[dict[str, Any]] = []
        while top is None or len(found) < top:
            want = 1000 if top is None else min(1000, top - len(found))
            items, _ = documents.list_documents(self.ctx, name, dataset=dataset, label=label, search=search, limit=want,
                                                offset=skip + len(found), tagged=None if untagged is None else not untagged)
            found += items
            if len(items) < want:
                break
        return found

    def delete_documents(self, name: str, locations: list[str]) -> dict[str, Any]:
        from tagwise.core import documents

        return documents.delete_documents(self.ctx, name, locations=locations)

    def start_training(self, name: str, body: dict[str, Any]) -> str:
        from tagwise.core import training
        from tagwise.ml import recipes  # noqa: F401 - before the job is queued: see below

        # the recipes (scikit-learn, scipy: ~1 s) load before the job exists: a Ctrl-C while they were imported, once the
        # job ran, ended the command killed by SIGINT (-2) rather than with exit code 130, an install broken there left a
        # job failed instead of none, and imported between the queueing and the claim, a Ctrl-C left the job queued
        return training.start(self.ctx, name, body)["id"]

    def abandon_training(self, job: str) -> None:
        """This command queued ``job`` to run it and was stopped: see :func:`cli_support.fail_interrupted`."""
        from tagwise.core import cli_support

        cli_support.fail_interrupted(self.ctx, job)

    def wait_training(self, name: str, job: str, on_percent: PercentCallback) -> dict[str, Any]:
        """Run the job here; if a server or worker on the same store claimed it first, follow it."""
        from tagwise.core import cli_support, jobs, training

        cli_support.claim_and_run(self.ctx, job, on_percent)
        while True:
            state = training.describe_job(jobs.get(self.ctx, job, "train", name))
            on_percent(overall_percent(state))
            if state["status"] in jobs.TERMINAL:
                return _raise_if_failed(state, name)
            time.sleep(0.5)

    def cancel_training(self, name: str) -> list[dict[str, Any]]:
        """Cancel the project's unfinished training jobs: ``[{"jobId", "status"}]`` after the request."""
        from tagwise.core import jobs, projects

        projects.get(self.ctx, name)
        active = [job["id"] for job in jobs.list_for(self.ctx, "train", name) if job["status"] in ACTIVE]
        for job_id in active:
            jobs.request_cancel(self.ctx, job_id)
        return [{"jobId": job_id, "status": jobs.get(self.ctx, job_id, "train", name)["status"]} for job_id in active]

    def active_training(self, name: str) -> tuple[str, str] | None:
        """(job, model label) of the project's queued or running training, for ``train --follow``."""
        from tagwise.core import jobs, projects

        projects.get(self.ctx, name)
        found = next((job for job in jobs.list_for(self.ctx, "train", name) if job["status"] in FOLLOWED), None)
        return None if found is None else (found["id"], found["payload"]["modelLabel"])

    def list_models(self, name: str) -> list[dict[str, Any]]:
        from tagwise.core import models

        return [models.describe(m) for m in models.list_all(self.ctx, name)]

    def evaluation_summary(self, name: str, label: str) -> dict[str, Any]:
        from tagwise.core import models

        return models.get(self.ctx, name, label)["evaluation"]

    def list_deployments(self, name: str) -> list[dict[str, Any]]:
        from tagwise.core import deployments

        return [deployments.describe(d) for d in deployments.list_all(self.ctx, name)]

    def list_all_deployments(self) -> list[dict[str, Any]]:
        from tagwise.core import deployments

        return [deployments.describe_with_project(p, d) for p, d in deployments.list_everywhere(self.ctx)]

    def deploy(self, name: str, deployment: str, label: str) -> dict[str, Any]:
        from tagwise.core import deployments

        return deployments.describe(deployments.deploy(self.ctx, name, deployment, {"trainedModelLabel": label}))

    def delete_model(self, name: str, label: str) -> None:
        from tagwise.core import models

        models.delete(self.ctx, name, label)

    def delete_deployment(self, name: str, deployment: str) -> None:
        from tagwise.core import deployments

        deployments.delete(self.ctx, name, deployment)

    def swap_deployments(self, name: str, first: str, second: str) -> None:
        from tagwise.core import deployments

        deployments.swap(self.ctx, name, {"firstDeploymentName": first, "secondDeploymentName": second})

    def classify(self, name: str, deployment: str, documents: list[dict[str, str]], top: int | None) -> dict[str, Any]:
        from tagwise.core import analyze

        results = analyze.classify_documents(self.ctx, name, deployment, documents, top=top)
        results.pop("kind", None)
        return results


def _say_retry(response: Any, wait_s: float) -> None:
    """A line on stderr when the server asks the CLI to wait a second or more: a 1-per-minute key
    sat silent for a minute (and up to 20 of them) before."""
    if wait_s < 1:
        return
    from tagwise.cli.common import err

    why = "the key's rate limit" if response.status_code == 429 else "the server's store is away or busy"
    err().print(f"note: the server answered {response.status_code} ({why}); sending again in {wait_s:g} s", markup=False)


def _say_lost(exc: Any) -> None:
    """A line on stderr when a poll or a classification finds the server gone (a restart, most often): the CLI asks again."""
    from tagwise.cli.common import err
    from tagwise.client import UNREACHABLE_WAIT_S

    err().print(f"note: {exc.message}; the server may be restarting: asking again for up to "
                f"{UNREACHABLE_WAIT_S:g} s", markup=False)


class RemoteBackend:
    """The same calls through a server's HTTP API."""

    def __init__(self, endpoint: str, key: str) -> None:
        from tagwise.client import Client

        self.client = Client(endpoint, key, on_retry=_say_retry, on_lost=_say_lost)
        self.where = endpoint
        self.training_status: str | None = None  # the last state wait_training saw
        self.max_documents: int | None = None  # the server's TAGWISE_MAX_SYNC_DOCUMENTS, once it has said it
        self.max_characters: int | None = None  # and its TAGWISE_MAX_SYNC_CHARACTERS

    def close(self) -> None:
        self.client.close()

    def __getattr__(self, name: str) -> Any:
        # list_projects, get_project, upsert_project, ... are the client's own methods.
        return getattr(self.client, name)

    def import_project(self, name: str, project_file: dict[str, Any], append: bool = False) -> dict[str, Any]:
        if append:
            return self.client.append_documents(name, project_file)
        self.client.import_project(name, project_file)
        return {}

    def classify(self, name: str, deployment: str, documents: list[dict[str, str]], top: int | None) -> dict[str, Any]:
        """The ``:classify`` route, in requests within the server's limits (``TAGWISE_MAX_SYNC_DOCUMENTS``
        and ``TAGWISE_MAX_SYNC_CHARACTERS``): each learned from the first request it refuses, then kept
        to up front for every later batch."""
        while True:
            parts = _split(documents, self.max_documents, self.max_characters)
            try:
                results = [self._classify_part(name, deployment, part, top) for part in parts]
                break
            except TagwiseError as exc:
                if not self._learn_limit(exc, parts):
                    raise
        # Document ids are positions in the whole batch, so the parts' results just follow each other.
        return {**results[0], "documents": [d for part in results for d in part["documents"]],
                "errors": [e for part in results for e in part["errors"]]}

    def _classify_part(self, name: str, deployment: str, part: list[dict[str, str]], top: int | None) -> dict[str, Any]:
        """One request; a single document longer than the server takes in one request becomes that
        document's error, as a document over the per-document limit is (the others go on)."""
        try:
            return self.client.classify(name, deployment, part, top)
        except TagwiseError as exc:
            found = _CHARACTER_LIMIT.search(exc.message) if len(part) == 1 else None
            if found is None or (self.max_characters is not None and _characters(part) <= self.max_characters):
                raise
            self.max_characters = int(found.group(1).replace(",", ""))
            message = (f"Document text is too long for one request to this server: {_characters(part):,} characters, "
                       f"it takes at most {self.max_characters:,} (TAGWISE_MAX_SYNC_CHARACTERS).")
            from tagwise.core.analyze import document_error

            return {"documents": [], "errors": [document_error(part[0]["id"], message)]}

    def _learn_limit(self, exc: TagwiseError, parts: list[list[dict[str, str]]]) -> bool:
        """Whether ``exc`` told a limit that ``parts`` broke and smaller parts would keep to (now
        remembered; another thread may have learned it meanwhile)."""
        if getattr(exc, "status", None) not in (400, 413):
            return False
        if (found := _DOCUMENT_LIMIT.search(exc.message)) and any(len(part) > (limit := int(found.group(1))) > 0 for part in parts):
            self.max_documents = min(limit, self.max_documents or limit)
            return True
        if (found := _CHARACTER_LIMIT.search(exc.message)) and any(
                len(part) > 1 and _characters(part) > (limit := int(found.group(1).replace(",", ""))) > 0 for part in parts):
            self.max_characters = min(limit, self.max_characters or limit)  # one document longer than it: refused again, raised
            return True
        return False

    def wait_training(self, name: str, job: str, on_percent: PercentCallback) -> dict[str, Any]:
        # Client.wait raises with the job's error message when the training failed.
        from tagwise.client import RemoteError

        since, noted, last = time.monotonic(), False, {}

        def seen(state: dict[str, Any]) -> None:
            nonlocal noted, last
            last = state  # what a cancellation names
            self.training_status = state.get("status")  # what an interrupted follow says the server does
            on_percent(overall_percent(state))
            if state.get("status") == "notStarted" and not noted and time.monotonic() - since > WAITING_NOTE_S:
                noted = True  # a server that runs no jobs (TAGWISE_RUN_JOBS=false) and no worker: it waited without a word
                from tagwise.cli.common import err

                err().print(f"note: the training has not started after {WAITING_NOTE_S:.0f} s: it waits for a job runner "
                            "(every tagwise serve runs one unless TAGWISE_RUN_JOBS=false; a tagwise worker on the server's "
                            "store runs them too), or for the trainings queued before it", markup=False)

        try:
            return self.client.wait(job, seen)
        except RemoteError as exc:
            if exc.code == "Cancelled" and last:  # "the operation was cancelled" named nothing
                raise RemoteError(_ended(name, dict(last, status="cancelled")), code="Cancelled") from None
            raise

    def active_training(self, name: str) -> tuple[str, str] | None:
        """(job URL, model label) of the project's queued or running training, from ``GET .../train/jobs``."""
        from tagwise.client import AUTHORING

        jobs_url = f"{AUTHORING}/{name}/train/jobs"
        page = self.client.request("GET", jobs_url).json()
        while True:
            if found := next((job for job in page.get("value", []) if job.get("status") in FOLLOWED), None):
                return f"{jobs_url}/{found['jobId']}", found["result"]["modelLabel"]
            if not page.get("nextLink"):
                return None
            page = self.client.request("GET", page["nextLink"]).json()

    def cancel_training(self, name: str) -> list[dict[str, Any]]:
        """The API's ``POST .../train/jobs/{id}/:cancel`` for each unfinished job of ``GET .../train/jobs``."""
        from tagwise.client import AUTHORING, RemoteError

        jobs_url = f"{AUTHORING}/{name}/train/jobs"
        active, page = [], self.client.request("GET", jobs_url).json()
        while True:
            active += [job["jobId"] for job in page.get("value", []) if job.get("status") in ACTIVE]
            if not page.get("nextLink"):
                break
            page = self.client.request("GET", page["nextLink"]).json()
        for job_id in active:
            try:
                self.client.request("POST", f"{jobs_url}/{job_id}/:cancel")
            except RemoteError as exc:
                if exc.status != 409:  # 409: it ended since the list was read; its status below says how
                    raise
        return [{"jobId": job_id, "status": self.client.request("GET", f"{jobs_url}/{job_id}").json()["status"]} for job_id in active]
