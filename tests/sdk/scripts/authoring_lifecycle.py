"""Drive a tagwise project through its authoring lifecycle with the official authoring SDK.

Runs in the venv of ``azure-ai-textanalytics-authoring==1.0.0b1`` (tests/sdk/requirements-authoring.txt).

Phase ``lifecycle``: create/get/list the project, upload some texts through the container route,
rejected imports, the real import, export round trip into a second project (then deleted), two
trainings (percentage and manual evaluation), training jobs, models, evaluation, deploy, swap,
delete a deployment and a model, bad input, raw wire details. It leaves deployment
``--deployment`` serving ``model1`` for the runtime script.
Phase ``cleanup``: delete that deployment, the model and the project.

Prints the JSON report described in ``_common.py``.
"""

from __future__ import annotations

import json
import math
import time

from _authoring_checks import (
    BLOB_DOCUMENTS,
    POLL,
    blob_path,
    doc_labels,
    evaluation_results,
    evaluation_summary,
    export,
    label_field,
    metadata,
    project_file,
    put_blob,
    wire_details,
)
from _common import CLIENT_OPTIONS, Report, base_parser, load_data, run
from azure.ai.textanalytics.authoring import TextAuthoringClient, TextAuthoringProjectClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest

SPLIT = {"kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20}


class Lifecycle:
    """One project's authoring lifecycle; each method is one stage, in order."""

    def __init__(self, report: Report, args) -> None:
        self.report, self.args = report, args
        self.data = load_data(args.data)
        self.kind, self.project = self.data["kind"], args.project
        self.container = f"{self.project}-docs"
        self.documents = self.data["documents"]
        self.by_location = {d["location"]: d for d in self.documents}
        self.cred = AzureKeyCredential(args.key)
        self.client = TextAuthoringClient(args.endpoint, self.cred, polling_interval=POLL, **CLIENT_OPTIONS)
        self.pc = self.project_client(self.project)
        self.summary = report.summary
        self.models: dict = {}

    def project_client(self, name: str) -> TextAuthoringProjectClient:
        return TextAuthoringProjectClient(self.args.endpoint, self.cred, project_name=name,
                                          polling_interval=POLL, **CLIENT_OPTIONS)

    def run(self) -> None:
        self.summary["documents"] = len(self.documents)
        self.config_version = self.training_config_versions()
        self.create_project()
        self.upload_blobs()
        self.rejected_imports()
        self.import_and_round_trip()
        self.train()
        self.evaluate()
        self.deploy()
        self.bad_input()
        wire_details(self.report, self.client, self.args.endpoint, self.project)

    def training_config_versions(self) -> str:
        """The fast ``linear`` recipe when the server lists it, else ``latest``."""
        with self.report.check("list_supported_languages"):
            listed = {lang.language_code: lang.language_name for lang in self.client.list_supported_languages(
                project_kind=self.data["projectKind"])}
            assert listed.get("en") == "English" and len(listed) == 16, listed
        with self.report.step("list_training_config_versions"):
            versions = list(self.client.list_training_config_versions(project_kind=self.data["projectKind"]))
            names = [v.training_config_version for v in versions]
            assert names, "no training config versions listed"
            assert all(v.model_expired_on is not None for v in versions), versions
            self.summary["trainingConfigVersions"] = names
            return "linear" if "linear" in names else "latest"

    def create_project(self) -> None:
        report, client, project, data = self.report, self.client, self.project, self.data
        with report.step("create_project"):
            created = client.create_project(project, metadata(data, project, self.container))
            assert created.project_name == project, created
            assert created.project_kind == data["projectKind"], created
            assert created.storage_input_container_name == self.container, created
            assert created.language == data["language"], created
            assert created.created_on is not None and created.last_modified_on is not None, created
        with report.check("create_project again (merge-patch update)"):
            updated = client.create_project(project, {"projectName": project, "projectKind": data["projectKind"],
                                                      "language": "en", "storageInputContainerName": self.container,
                                                      "description": "updated"})
            assert updated.description == "updated", updated
            assert updated.project_kind == data["projectKind"], updated
        with report.check("get_project"):
            got = client.get_project(project)
            assert got.project_name == project and got.description == "updated", got
            assert self.pc.project.get_project().project_name == project
        with report.check("list_projects"):
            listed = [p.project_name for p in client.list_projects()]
            assert project in listed, listed

    def upload_blobs(self) -> None:
        """Section 5: the first BLOB_DOCUMENTS texts go only through the container route."""
        report, client = self.report, self.client
        with report.step("container upload (PUT new blob -> 201)"):
            for doc in self.documents[:BLOB_DOCUMENTS]:
                response = put_blob(client, self.container, doc["location"], doc["text"])
                assert response.status_code == 201, (doc["location"], response.status_code, response.text())
        with report.check("container blob replace (200) / get / list"):
            doc = self.documents[0]
            response = put_blob(client, self.container, doc["location"], doc["text"])
            assert response.status_code == 200, ("re-PUT", response.status_code, response.text())
            response = client.send_request(HttpRequest("GET", blob_path(self.container, doc["location"])))
            assert response.status_code == 200 and response.text() == doc["text"], (response.status_code,
                                                                                   response.text())
            response = client.send_request(HttpRequest("GET", blob_path(self.container)))
            assert response.status_code == 200, response.status_code
            blobs = {b["location"] for b in response.json()["value"]}
            assert {d["location"] for d in self.documents[:BLOB_DOCUMENTS]} <= blobs, blobs

    def rejected_imports(self) -> None:
        """Imports that must fail as a whole, leaving the project empty."""
        report, pc = self.report, self.pc
        with report.check("import with a class outside the schema -> HttpResponseError"):
            bad = project_file(self.data, self.project, self.container, self.documents[:20])
            bad["assets"]["documents"][3].update(label_field(self.kind, ["no-such-class"]))
            try:
                pc.project.begin_import(bad, polling_interval=POLL).result()
            except HttpResponseError as exc:
                self.summary["unknownClassImportError"] = {"status": exc.status_code,
                                                           "code": getattr(exc.error, "code", None)}
            else:
                raise AssertionError("import with an unknown class succeeded")
        with report.check("import of a document with no text and no blob -> 400 InvalidRequest/InvalidDocument"):
            bad = project_file(self.data, self.project, self.container, self.documents[:20])
            missing = "no-such-blob.txt"
            bad["assets"]["documents"][5]["location"] = missing
            del bad["assets"]["documents"][5]["text"]
            try:
                pc.project.begin_import(bad, polling_interval=POLL).result()
            except HttpResponseError as exc:
                body = exc.response.text() if exc.response is not None else str(exc)
                assert exc.status_code == 400, f"status {exc.status_code}: {body}"
                assert exc.error is not None and exc.error.code == "InvalidRequest", f"error.code: {body}"
                assert exc.error.innererror.get("code") == "InvalidDocument", f"innererror.code: {body}"
                assert missing in body, f"the error does not name {missing}: {body}"
            else:
                raise AssertionError("import of a document without any text succeeded")
        with report.check("rejected imports left no documents"):
            documents = export(pc)["assets"].get("documents", [])
            assert documents == [], f"{len(documents)} documents were imported"

    def import_and_round_trip(self) -> None:
        report, kind = self.report, self.kind
        with report.step("begin_import (inline text + container blobs)"):
            body = project_file(self.data, self.project, self.container, self.documents, inline=False)
            self.pc.project.begin_import(body, polling_interval=POLL).result()
        with report.check("export"):
            exported = export(self.pc)
            assert exported["metadata"]["projectName"] == self.project, exported["metadata"]
            assert exported["assets"]["projectKind"] == self.data["projectKind"], exported["assets"].get("projectKind")
            assert sorted(c["category"] for c in exported["assets"]["classes"]) == sorted(self.data["classes"])
            got = {d["location"]: d for d in exported["assets"]["documents"]}
            assert set(got) == set(self.by_location), "exported locations differ from imported ones"
            for location, doc in got.items():
                want = self.by_location[location]
                assert doc_labels(kind, doc) == want["labels"], (location, doc)
                assert doc.get("text") == want["text"], f"text of {location} not exported"
                assert doc.get("dataset") == want["dataset"], (location, doc.get("dataset"))
        copy_name = f"{self.project}-copy"
        with report.check("export -> import into a new project -> export gives the same documents"):
            exported["metadata"]["projectName"] = copy_name
            copy_pc = self.project_client(copy_name)
            copy_pc.project.begin_import(exported, polling_interval=POLL).result()
            assert self.client.get_project(copy_name).project_kind == self.data["projectKind"]
            listed = [p.project_name for p in self.client.list_projects(maxpagesize=1)]  # follows nextLink
            assert {self.project, copy_name} <= set(listed) and len(set(listed)) == len(listed), listed

            def key(docs):
                return sorted((d["location"], json.dumps(doc_labels(kind, d)), d.get("text"), d.get("dataset"))
                              for d in docs)

            again = export(copy_pc)
            assert key(again["assets"]["documents"]) == key(exported["assets"]["documents"]), "round trip differs"
        with report.check("begin_delete_project"):
            self.client.begin_delete_project(copy_name, polling_interval=POLL).result()
            exc = report.expect_error("get a deleted project -> ResourceNotFoundError", ResourceNotFoundError,
                                      lambda: self.client.get_project(copy_name))
            assert exc is None or exc.error.code == "ProjectNotFound", exc.error.code

    def train(self) -> None:
        """model1: percentage split; model2: manual split (each document's dataset)."""
        report, pc, version = self.report, self.pc, self.config_version
        with report.step("begin_train (percentage)"):
            started = time.monotonic()
            result = pc.project.begin_train({"modelLabel": "model1", "trainingConfigVersion": version,
                                             "evaluationOptions": SPLIT}, polling_interval=POLL).result()
            self.summary["trainSeconds"] = round(time.monotonic() - started, 1)
            assert result.model_label == "model1", result
            assert result.training_status.status == "succeeded", result
            assert result.training_config_version and result.training_config_version != "latest", result
            self.summary["trainingConfigVersion"] = result.training_config_version
        with report.step("begin_train (manual)"):
            result = pc.project.begin_train({"modelLabel": "model2", "trainingConfigVersion": version,
                                             "evaluationOptions": {"kind": "manual"}}, polling_interval=POLL).result()
            assert result.model_label == "model2" and result.training_status.status == "succeeded", result
        with report.check("list_training_jobs"):
            jobs = list(pc.project.list_training_jobs())
            assert {j.result.model_label for j in jobs} >= {"model1", "model2"}, jobs
            assert all(j.status == "succeeded" and j.job_id for j in jobs), [(j.job_id, j.status) for j in jobs]
        exc = report.expect_error("begin_cancel_training_job of a finished training -> HttpResponseError", HttpResponseError,
                                  lambda: pc.project.begin_cancel_training_job(jobs[0].job_id, polling_interval=POLL).result())
        with report.check("that error says the training has ended"):
            assert exc is not None and exc.status_code == 409 and "already ended (succeeded)" in exc.message, exc
        with report.step("list_trained_models"):
            self.models = {m.label: m for m in pc.project.list_trained_models()}
            assert set(self.models) == {"model1", "model2"}, list(self.models)
        with report.check("get_trained_model"):
            m1 = pc.trained_model.get_trained_model("model1")
            assert m1.label == "model1" and m1.model_id == self.models["model1"].model_id, m1
            assert m1.last_trained_on is not None and m1.model_expired_on is not None, m1
            assert isinstance(m1.last_training_duration_in_seconds, int) and isinstance(m1.has_snapshot, bool), m1
            assert m1.model_training_config_version == self.summary["trainingConfigVersion"], m1

    def evaluate(self) -> None:
        manual_test = {d["location"] for d in self.documents if d["dataset"] == "Test"}
        expected_test = len(self.documents) * SPLIT["testingSplitPercentage"] / 100
        for label, kind in (("model1", "percentage"), ("model2", "manual")):
            with self.report.check(f"get_model_evaluation_summary {label}"):
                self.summary[f"{label}MicroF1"] = evaluation_summary(self.pc, self.data, label, kind)["microF1"]
            with self.report.check(f"list_model_evaluation_results {label}"):
                locations, f1 = evaluation_results(self.pc, self.data, label)
                self.summary[f"{label}TestDocuments"] = len(locations)
                if kind == "manual":
                    assert set(locations) == manual_test, "manual evaluation must test exactly the Test documents"
                else:
                    assert abs(len(locations) - expected_test) <= 2, (len(locations), expected_test)
                reported = self.summary.get(f"{label}MicroF1")
                assert reported is None or math.isclose(f1, reported, abs_tol=1e-3), (
                    f"summary microF1 {reported} != {f1} computed from the per-document results")

    def deploy(self) -> None:
        report, pc, models = self.report, self.pc, self.models
        dep, other = self.args.deployment, "staging"
        with report.step("begin_deploy_project"):
            # The poller's result is None (the SDK GETs the deployment but does not return it).
            pc.deployment.begin_deploy_project(dep, {"trainedModelLabel": "model1"}, polling_interval=POLL).result()
            deployed = pc.deployment.get_deployment(dep)
            assert deployed.deployment_name == dep, deployed
            assert deployed.model_id == models["model1"].model_id, (deployed.model_id, models["model1"].model_id)
            assert deployed.last_deployed_on is not None and deployed.deployment_expired_on is not None, deployed
            pc.deployment.begin_deploy_project(other, {"trainedModelLabel": "model2"}, polling_interval=POLL).result()
        with report.check("list_deployments / get_deployment"):
            listed = {d.deployment_name for d in pc.project.list_deployments()}
            assert listed == {dep, other}, listed
            assert pc.deployment.get_deployment(other).model_id == models["model2"].model_id
        with report.check("get_project after deploy"):
            got = self.client.get_project(self.project)
            assert got.last_trained_on is not None and got.last_deployed_on is not None, got
        with report.check("begin_swap_deployments"):
            swap = {"firstDeploymentName": dep, "secondDeploymentName": other}
            pc.project.begin_swap_deployments(swap, polling_interval=POLL).result()
            assert pc.deployment.get_deployment(dep).model_id == models["model2"].model_id, "model2 not moved"
            assert pc.deployment.get_deployment(other).model_id == models["model1"].model_id, "model1 not moved"
            pc.project.begin_swap_deployments(swap, polling_interval=POLL).result()
        with report.step(f"{dep} serves model1"):
            assert pc.deployment.get_deployment(dep).model_id == models["model1"].model_id
        report.expect_error("deploy an unknown model label -> ResourceNotFoundError", ResourceNotFoundError,
                            lambda: pc.deployment.begin_deploy_project(
                                "other", {"trainedModelLabel": "no-such-model"}, polling_interval=POLL).result())
        report.expect_error("delete a deployed model -> ResourceExistsError (409)", ResourceExistsError,
                            lambda: pc.trained_model.delete_trained_model("model1"))
        with report.check("begin_delete_deployment"):
            pc.deployment.begin_delete_deployment(other, polling_interval=POLL).result()
            report.expect_error("get a deleted deployment -> ResourceNotFoundError", ResourceNotFoundError,
                                lambda: pc.deployment.get_deployment(other))
        with report.check("delete_trained_model"):
            pc.trained_model.delete_trained_model("model2")
            report.expect_error("get a deleted model -> ResourceNotFoundError", ResourceNotFoundError,
                                lambda: pc.trained_model.get_trained_model("model2"))
            assert [m.label for m in pc.project.list_trained_models()] == ["model1"]

    def bad_input(self) -> None:
        report = self.report
        exc = report.expect_error("unknown project -> ResourceNotFoundError", ResourceNotFoundError,
                                  lambda: self.client.get_project("no-such-project"))
        with report.check("unknown project error code is ProjectNotFound"):
            assert exc is not None and exc.error is not None and exc.error.code == "ProjectNotFound", exc
        report.expect_error("unknown project (project client) -> ResourceNotFoundError", ResourceNotFoundError,
                            lambda: self.project_client("no-such-project").project.get_project())
        wrong = TextAuthoringClient(self.args.endpoint, AzureKeyCredential("wrong-" + self.args.key), **CLIENT_OPTIONS)
        report.expect_error("wrong key -> ClientAuthenticationError", ClientAuthenticationError,
                            lambda: list(wrong.list_projects()))
        exc = report.expect_error("wrong key on get_project -> ClientAuthenticationError", ClientAuthenticationError,
                                  lambda: wrong.get_project(self.project))
        with report.check("wrong key error code is Unauthorized"):
            assert exc is not None and exc.error is not None and exc.error.code == "Unauthorized", exc


def cleanup(report: Report, args) -> None:
    cred = AzureKeyCredential(args.key)
    client = TextAuthoringClient(args.endpoint, cred, polling_interval=POLL, **CLIENT_OPTIONS)
    pc = TextAuthoringProjectClient(args.endpoint, cred, project_name=args.project,
                                    polling_interval=POLL, **CLIENT_OPTIONS)
    with report.check("begin_delete_deployment"):
        pc.deployment.begin_delete_deployment(args.deployment, polling_interval=POLL).result()
        assert list(pc.project.list_deployments()) == []
    with report.check("delete_trained_model"):
        pc.trained_model.delete_trained_model("model1")
        assert list(pc.project.list_trained_models()) == []
    training = pc.project.begin_train({"modelLabel": "doomed", "trainingConfigVersion": "latest",
                                       "evaluationOptions": {"kind": "percentage"}}, polling_interval=POLL)
    with report.step("begin_delete_project"):
        client.begin_delete_project(args.project, polling_interval=POLL).result()
    # a training of a deleted project ends failed: as "cancelled" its poller never finished (azure-core knows "canceled")
    exc = report.expect_error("begin_train poller of a deleted project -> HttpResponseError", HttpResponseError,
                              lambda: training.result(timeout=60))
    with report.check("the deleted project's training says why, as the exception's error code"):
        assert exc is not None and "was deleted" in str(exc), exc
        assert exc.error is not None and exc.error.code == "ProjectNotFound", exc.error
    exc = report.expect_error("deleted project -> ResourceNotFoundError", ResourceNotFoundError,
                              lambda: client.get_project(args.project))
    with report.check("deleted project error code is ProjectNotFound"):
        assert exc is not None and exc.error.code == "ProjectNotFound", exc
    with report.check("deleted project is not listed"):
        assert args.project not in [p.project_name for p in client.list_projects()]


def main(report: Report, args) -> None:
    if args.phase == "lifecycle":
        Lifecycle(report, args).run()
    else:
        cleanup(report, args)


if __name__ == "__main__":
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=["lifecycle", "cleanup"], default="lifecycle")
    parser.add_argument("--deployment", default="production")
    run(main, parser)
