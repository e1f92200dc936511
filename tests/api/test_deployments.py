"""Deployments: deploy, read, list, swap, delete."""

from __future__ import annotations

from tests.api.conftest import CLASSIFY, SINGLE, A, V, create_and_import, deploy, train, wait


def test_deploy_swap_delete(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"])
    train(client, "bank", "a")
    train(client, "bank", "b")
    deploy(client, "bank", "production", "a")
    deploy(client, "bank", "staging", "b")
    production = client.get(f"{A}/bank/deployments/production", params=V).json()
    assert production["deploymentName"] == "production"
    assert production["modelId"] == client.get(f"{A}/bank/models/a", params=V).json()["modelId"]
    assert [d["deploymentName"] for d in client.get(f"{A}/bank/deployments", params=V).json()["value"]] == ["production", "staging"]

    swap = client.post(f"{A}/bank/deployments/:swap", params=V, json={"firstDeploymentName": "production", "secondDeploymentName": "staging"})
    assert swap.status_code == 202
    assert "/deployments/swap/jobs/" in swap.headers["Operation-Location"]
    assert wait(client, swap.headers["Operation-Location"])["status"] == "succeeded"
    assert client.get(f"{A}/bank/deployments/production", params=V).json()["modelId"] == client.get(f"{A}/bank/models/b", params=V).json()["modelId"]

    in_use = client.delete(f"{A}/bank/models/b", params=V)
    assert in_use.status_code == 409 and "production" in in_use.json()["error"]["message"]

    served = client.post(CLASSIFY.format(p="bank", d="staging"), json={"documents": [{"id": "1", "text": "my card is lost"}]})
    assert served.status_code == 200
    model_a = client.get(f"{A}/bank/models/a", params=V).json()["modelId"]
    assert model_a in client.app.state.ctx.predictors
    deleted = client.delete(f"{A}/bank/deployments/staging", params=V)
    assert deleted.status_code == 202
    assert client.get(f"{A}/bank/deployments/staging", params=V).status_code == 404
    assert model_a not in client.app.state.ctx.predictors  # still a trained model, but nothing serves it: not kept in memory
    assert client.get(f"{A}/bank", params=V).json()["lastDeployedDateTime"]


def test_deploy_errors(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"])
    unknown_model = client.put(f"{A}/bank/deployments/prod", params=V, json={"trainedModelLabel": "nope"})
    assert unknown_model.status_code == 404
    no_label = client.put(f"{A}/bank/deployments/prod", params=V, json={})
    assert no_label.status_code == 400
    swap_missing = client.post(f"{A}/bank/deployments/:swap", params=V, json={"firstDeploymentName": "a", "secondDeploymentName": "b"})
    assert swap_missing.status_code == 404


def test_swap_is_not_a_deployment_name_but_one_an_older_tagwise_made_stays_readable(client, banking):
    # a deployment named swap was made, and its job URL …/deployments/swap/jobs/{id} reached the swap
    # job's route: 404, so the SDK's poller raised although the deployment was made
    from tagwise.core import deployments
    from tagwise.storage import records

    create_and_import(client, "bank", SINGLE, banking["train"])
    train(client, "bank", "m1")
    refused = client.put(f"{A}/bank/deployments/swap", params=V, json={"trainedModelLabel": "m1"})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "InvalidArgument" and error["target"] == "deployment"
    assert "The deployment name 'swap' is taken by the API's own routes" in error["message"] and "choose another name" in error["message"]
    assert client.get(f"{A}/bank/deployments", params=V).json()["value"] == []

    deploy(client, "bank", "prod", "m1")
    ctx = client.app.state.ctx
    with ctx.db.write() as conn:  # as an older tagwise stored it
        project = records.get_project(conn, "bank")
        prod = deployments.require_deployment(conn, project, "prod")
        records.upsert_deployment(conn, project["id"], {k: prod[k] for k in ("model_label", "model_id", "trained_at", "config_version",
                                                                              "deployed_at")} | {"name": "swap"})
    old = client.get(f"{A}/bank/deployments/swap", params=V)
    assert old.status_code == 200 and old.json()["trainedModelLabel"] == "m1"
    assert [d["deploymentName"] for d in client.get(f"{A}/bank/deployments", params=V).json()["value"]] == ["prod", "swap"]
    classified = client.post(CLASSIFY.format(p="bank", d="swap"), json={"documents": [{"id": "1", "text": "my card"}]})
    assert classified.status_code == 200 and classified.json()["documents"][0]["class"]


def test_retraining_a_deployed_label_keeps_the_deployment_serving(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"])
    train(client, "bank", "a")
    deploy(client, "bank", "production", "a")
    served = client.get(f"{A}/bank/deployments/production", params=V).json()["modelId"]
    train(client, "bank", "a")  # same label again: a new model replaces the label's model
    assert client.get(f"{A}/bank/models/a", params=V).json()["modelId"] != served
    response = client.post("/language/tagwise/projects/bank/deployments/production:classify", json={"documents": [{"id": "1", "text": "where is my card"}]})
    assert response.status_code == 200 and response.json()["documents"][0]["class"]
    assert client.get(f"{A}/bank/deployments/production", params=V).json()["modelId"] == served  # until deployed again
    # deleting the label was a 204 then, and production named a label that no longer existed (its export: 404)
    refused = client.delete(f"{A}/bank/models/a", params=V)
    assert refused.status_code == 409 and refused.json()["error"]["message"].startswith(
        "production still serves the model trained as a before it was trained again, under this name: deploy this or another model")


def test_model_folders_go_when_nothing_refers_to_them(client, banking, settings):
    # the folders of versions kept only for a deployment, and of deleted projects, stayed on disk forever
    folders = settings.models_dir / "bank"
    model_id = lambda label: client.get(f"{A}/bank/models/{label}", params=V).json()["modelId"]
    create_and_import(client, "bank", SINGLE, banking["train"])
    train(client, "bank", "a")
    first = model_id("a")
    deploy(client, "bank", "prod", "a")
    train(client, "bank", "a")  # retrained: prod keeps serving the first version
    assert {p.name for p in folders.iterdir()} == {first, model_id("a")}

    deploy(client, "bank", "prod", "a")  # nothing serves the first version any more
    assert {p.name for p in folders.iterdir()} == {model_id("a")}

    train(client, "bank", "b")
    deploy(client, "bank", "staging", "b")
    assert wait(client, client.delete(f"{A}/bank/deployments/staging", params=V).headers["Operation-Location"])["status"] == "succeeded"
    assert (folders / model_id("b")).is_dir()  # still a trained model of the project
    train(client, "bank", "b")
    deploy(client, "bank", "staging", "b")
    kept = model_id("b")
    train(client, "bank", "b")  # staging keeps `kept`, only for itself
    assert wait(client, client.delete(f"{A}/bank/deployments/staging", params=V).headers["Operation-Location"])["status"] == "succeeded"
    assert not (folders / kept).exists() and (folders / model_id("b")).is_dir()

    assert client.post(CLASSIFY.format(p="bank", d="prod"), json={"documents": [{"id": "1", "text": "my card"}]}).status_code == 200
    assert wait(client, client.delete(f"{A}/bank", params=V).headers["Operation-Location"])["status"] == "succeeded"
    assert not folders.exists()


def test_models_are_found_whatever_folder_the_server_starts_from(tmp_path, monkeypatch, banking):
    # the default data dir is relative: model folders were recorded as tagwise-data/models/..., so a
    # server started from another folder (a service manager, a restore) answered 500 for every model
    from tagwise.settings import Settings
    from tagwise.storage import records
    from tests.conftest import KEY, open_client

    monkeypatch.chdir(tmp_path)
    with open_client(Settings(data_dir="tagwise-data", api_key=KEY)) as client:
        create_and_import(client, "bank", SINGLE, banking["train"])
        train(client, "bank", "a")
        deploy(client, "bank", "prod", "a")
        ctx = client.app.state.ctx
        with ctx.db.write() as conn:
            project_id = records.get_project(conn, "bank")["id"]
            [model] = records.model_refs(conn, project_id)
            assert model["artifact"] == str(tmp_path / "tagwise-data" / "models" / "bank" / model["model_id"])
            # what older versions recorded: still found, through the model store's own place for it
            conn.execute(records.models.update().values(artifact=f"tagwise-data/models/bank/{model['model_id']}"))
    monkeypatch.chdir(tmp_path.parent)
    with open_client(Settings(data_dir=tmp_path / "tagwise-data", api_key=KEY)) as client:
        response = client.post(CLASSIFY.format(p="bank", d="prod"), json={"documents": [{"id": "1", "text": "my card"}]})
        assert response.status_code == 200, response.text


def test_a_copied_data_dir_never_touches_the_original_model_folders(tmp_path, banking):
    # the store records absolute folders: a copy (a staging server from a backup) deleting a model or a
    # project removed the original instance's folders
    import shutil

    from tagwise.settings import Settings
    from tests.conftest import KEY, open_client

    with open_client(Settings(data_dir=tmp_path / "prod", api_key=KEY)) as client:
        create_and_import(client, "bank", SINGLE, banking["train"])
        train(client, "bank", "a")
        train(client, "bank", "b")
    shutil.copytree(tmp_path / "prod", tmp_path / "copy")
    original = sorted(p.name for p in (tmp_path / "prod" / "models" / "bank").iterdir())
    with open_client(Settings(data_dir=tmp_path / "copy", api_key=KEY)) as client:
        assert client.delete(f"{A}/bank/models/a", params=V).status_code == 204
        assert wait(client, client.delete(f"{A}/bank", params=V).headers["Operation-Location"])["status"] == "succeeded"
    assert sorted(p.name for p in (tmp_path / "prod" / "models" / "bank").iterdir()) == original
    assert not (tmp_path / "copy" / "models" / "bank").exists()


def test_the_deploy_job_warns_of_a_model_no_better_than_the_commonest_class(client):
    # the studio's Deploy page warned; an SDK's deploy job came back with "warnings": []
    rows = ([{"id": f"b{i}", "text": f"please help me with ticket {i}", "labels": ["billing"]} for i in range(16)]
            + [{"id": f"c{i}", "text": f"please help me with ticket {i}", "labels": ["card"]} for i in range(20, 24)])
    create_and_import(client, "inbox", SINGLE, rows)
    train(client, "inbox", "v1")
    response = client.put(f"{A}/inbox/deployments/prod", params=V, json={"trainedModelLabel": "v1"})
    job = wait(client, response.headers["Operation-Location"])
    assert job["status"] == "succeeded"
    [warning] = job["warnings"]
    assert warning["code"] == "NoBetterThanBaseline"
    assert warning["message"].startswith("The model v1 is no better than always answering billing (")
    assert "Tag more examples of the classes other than billing, train again and deploy that model." in warning["message"]


FLEET = "/language/tagwise/deployments"


def classify_one(client, project: str, deployment: str) -> dict:
    response = client.post(CLASSIFY.format(p=project, d=deployment), json={"documents": [{"id": "1", "text": "my card is lost"}]})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_projects_deployments_in_one_list_and_classify_names_the_model_that_answered(client, banking):
    from tagwise.core import keys

    assert client.get(FLEET).json() == {"value": [], "nextLink": None}
    create_and_import(client, "bank", SINGLE, banking["train"])
    create_and_import(client, "cards", SINGLE, banking["train"][:60])
    train(client, "bank", "a")
    train(client, "bank", "b")
    train(client, "cards", "v1")
    deploy(client, "bank", "production", "a")
    deploy(client, "bank", "staging", "b")
    deploy(client, "cards", "prod", "v1")
    model_id = lambda project, label: client.get(f"{A}/{project}/models/{label}", params=V).json()["modelId"]

    listed = client.get(FLEET)
    assert listed.status_code == 200, listed.text
    items = listed.json()["value"]
    assert [(d["projectName"], d["deploymentName"], d["trainedModelLabel"]) for d in items] == [
        ("bank", "production", "a"), ("bank", "staging", "b"), ("cards", "prod", "v1")]
    for item in items:  # the per-project route's Deployment, led by its project
        own = client.get(f"{A}/{item['projectName']}/deployments/{item['deploymentName']}", params=V).json()
        assert item == {"projectName": item["projectName"], "projectKind": SINGLE, **own}
        assert {"modelId", "lastTrainedDateTime", "lastDeployedDateTime", "deploymentExpirationDate"} <= set(item)
    first = client.get(FLEET, params={"maxpagesize": 2}).json()
    assert len(first["value"]) == 2 and first["nextLink"] == "http://testserver/language/tagwise/deployments?maxpagesize=2&skip=2"
    assert client.get(first["nextLink"]).json() == {"value": items[2:], "nextLink": None}
    assert client.get(FLEET, params={"top": 1, "skip": 1}).json() == {"value": items[1:2], "nextLink": None}
    bad = client.get(FLEET, params={"top": "all"})
    assert bad.status_code == 400 and bad.json()["error"]["target"] == "top"
    _, runtime = keys.create(client.app.state.ctx, "app", keys.RUNTIME)  # a runtime key classifies, and reads no project
    assert client.get(FLEET, headers={"Ocp-Apim-Subscription-Key": runtime}).status_code == 403

    answer = classify_one(client, "bank", "production")
    assert list(answer) == ["projectName", "deploymentName", "trainedModelLabel", "modelId", "documents", "errors"]
    assert (answer["trainedModelLabel"], answer["modelId"]) == ("a", model_id("bank", "a"))
    swap = client.post(f"{A}/bank/deployments/:swap", params=V, json={"firstDeploymentName": "production", "secondDeploymentName": "staging"})
    assert wait(client, swap.headers["Operation-Location"])["status"] == "succeeded"
    assert (classify_one(client, "bank", "production")["trainedModelLabel"], classify_one(client, "bank", "staging")["modelId"]) == (
        "b", model_id("bank", "a"))
    served = model_id("bank", "b")
    train(client, "bank", "b")  # retrained: production keeps answering with the version it was given
    assert model_id("bank", "b") != served
    assert (classify_one(client, "bank", "production")["trainedModelLabel"], classify_one(client, "bank", "production")["modelId"]) == (
        "b", served)
    assert [d["modelId"] for d in client.get(FLEET).json()["value"]] == [served, model_id("bank", "a"), model_id("cards", "v1")]


def test_a_model_whose_files_cannot_be_loaded_is_never_deployed(client, banking, caplog):
    # a damaged model folder used to deploy as "succeeded", and every classification then failed with a 500
    from tagwise.core import models

    create_and_import(client, "bank", SINGLE, banking["train"])
    train(client, "bank", "a")
    train(client, "bank", "b")
    deploy(client, "bank", "production", "a")
    model_a = client.get(f"{A}/bank/models/a", params=V).json()["modelId"]
    arrays = models.located(client.app.state.ctx, {"name": "bank"}, models.get(client.app.state.ctx, "bank", "b")) / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:100])  # cut short, as by a full disk or an interrupted copy

    refused = client.put(f"{A}/bank/deployments/production", params=V, json={"trainedModelLabel": "b"})
    assert refused.status_code == 500, refused.text
    message = refused.json()["error"]["message"]
    assert "model b cannot be loaded" in message and "Nothing was deployed" in message and "train the model again" in message
    assert str(arrays) not in message  # the path is for the operator's log, not for whoever called
    assert client.get(f"{A}/bank/deployments/production", params=V).json()["modelId"] == model_a  # still serves a
    assert classify_one(client, "bank", "production")["modelId"] == model_a
    assert client.put(f"{A}/bank/deployments/other", params=V, json={"trainedModelLabel": "b"}).status_code == 500
    assert client.get(f"{A}/bank/deployments/other", params=V).status_code == 404

    # trained by a newer tagwise's worker (a rolling upgrade, a rollback): not "damaged", which sent people retraining
    # it, possibly on the same newer worker
    import json

    manifest_path = models.located(client.app.state.ctx, {"name": "bank"}, models.get(client.app.state.ctx, "bank", "a")) / "manifest.json"
    kept = manifest_path.read_text()
    manifest_path.write_text(json.dumps({**json.loads(kept), "format_version": 99}))
    client.app.state.ctx.predictors.forget(model_a)
    newer = client.put(f"{A}/bank/deployments/other", params=V, json={"trainedModelLabel": "a"}).json()["error"]["message"]
    assert "model a was saved by a newer tagwise (model format 99)" in newer and "deploy it through a server of that version" in newer
    answer = client.post(CLASSIFY.format(p="bank", d="production"), json={"documents": [{"id": "1", "text": "card"}]})
    assert answer.status_code == 500 and "saved by a newer tagwise (model format 99" in answer.json()["error"]["message"]
    job = client.post("/language/analyze-text/jobs", params=V, json={"analysisInput": {"documents": [{"id": "1", "text": "card"}]},
                      "tasks": [{"kind": SINGLE, "taskName": "t", "parameters": {"projectName": "bank", "deploymentName": "production"}}]})
    failed = wait(client, job.headers["Operation-Location"])
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == "InternalServerError"  # the server's fault, not the request's
    manifest_path.write_text(kept)

    # a model store restored from another time than the store: the folder is not there at all, and that is said
    import shutil

    shutil.rmtree(arrays.parent)
    missing = client.put(f"{A}/bank/deployments/other", params=V, json={"trainedModelLabel": "b"}).json()["error"]["message"]
    assert "has no folder there (a model store restored from another time than the store?)" in missing
    assert models.without_folder(client.app.state.ctx) == ["bank/b"]
    shutil.rmtree(models.located(client.app.state.ctx, {"name": "bank"}, models.get(client.app.state.ctx, "bank", "a")))
    client.app.state.ctx.predictors.forget(model_a)
    answer = client.post(CLASSIFY.format(p="bank", d="production"), json={"documents": [{"id": "1", "text": "card"}]})
    assert answer.status_code == 500 and "folder is missing from the model store" in answer.json()["error"]["message"]
    assert models.without_folder(client.app.state.ctx) == ["bank/a", "bank/b"]
    from tagwise import server  # a start says it in one line, and the deployment's warm-up adds no traceback

    caplog.clear()
    server._warm_up(client.app.state.ctx)
    assert "lacks model folders the store names (2 trained model(s) have no folder in it: bank/a, bank/b; deployments that " \
           "cannot answer until then: bank/production)" in caplog.text
    assert "could not warm up deployment bank/production: The model's folder is missing" in caplog.text and "Traceback" not in caplog.text


def test_a_model_whose_project_another_process_deleted_while_it_loaded_is_a_404(client, banking, monkeypatch):
    # another process's delete removed the folder between this one's read of the deployment and its load of the
    # model: a 500 asking the operator to restore a backup (a race probe: 1 in 1,363 requests around project deletes)
    from tagwise.core import projects

    create_and_import(client, "bank", SINGLE, banking["train"])
    train(client, "bank", "a")
    deploy(client, "bank", "production", "a")
    ctx = client.app.state.ctx
    model_id = client.get(f"{A}/bank/models/a", params=V).json()["modelId"]
    ctx.predictors.forget(model_id)
    real = ctx.predictors.get

    def deleted_meanwhile(*args):
        projects.delete(ctx, "bank")
        return real(*args)

    monkeypatch.setattr(ctx.predictors, "get", deleted_meanwhile)
    answer = client.post(CLASSIFY.format(p="bank", d="production"), json={"documents": [{"id": "1", "text": "card"}]})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "ProjectNotFound", answer.text
