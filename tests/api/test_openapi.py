"""The API reference: /docs works offline, and /openapi.json describes what the server does."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import A, V

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*["']([^"']+)["']""")
TRAIN = "/language/authoring/analyze-text/projects/{project}/:train"


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_reference_page_loads_nothing_from_the_internet(client):
    response = client.get("/docs", headers={"Ocp-Apim-Subscription-Key": ""})  # no key needed to read the reference
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"""["'(]\s*(https?:)?//""", html), "the page references another host"
    urls = [a or b for a, b in ASSET.findall(html)]
    assert "/openapi.json" in urls
    assets = [u for u in urls if u != "/openapi.json"]
    assert any(u.endswith(".js") for u in assets)
    for url in assets:
        assert client.get(url).status_code == 200, url
    # nor can another site frame it; API answers are not sniffed into another type either
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/language/authoring/analyze-text/projects").headers["x-content-type-options"] == "nosniff"


def test_swagger_ui_is_a_version_that_renders_openapi_3_1(client, schema):
    assert schema["openapi"].startswith("3.1")
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    assert '"validatorUrl": null' in client.get("/docs").text  # no badge fetched from validator.swagger.io
    assert client.get("/redoc").status_code == 404  # ReDoc would load its logo from redoc.ly


def test_the_key_is_an_api_key_security_scheme_on_api_routes_only(schema):
    schemes = schema["components"]["securitySchemes"]
    [(name, scheme)] = schemes.items()
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Ocp-Apim-Subscription-Key"}
    operations = [op for route, path in schema["paths"].items() if route != "/health" for op in path.values()]
    assert all(op["security"] == [{name: []}] for op in operations)
    assert "security" not in schema["paths"]["/health"]["get"]  # for load balancers: no key
    assert not any(p.startswith(("/studio", "/docs")) for p in schema["paths"])


def test_azure_routes_declare_api_version(schema):
    [param] = [p for p in schema["paths"][TRAIN]["post"]["parameters"] if p["name"] == "api-version"]
    assert param["in"] == "query" and param["required"] is True
    assert V["api-version"] in param["schema"]["enum"] and param["schema"]["default"] in param["schema"]["enum"]
    job = schema["paths"]["/language/analyze-text/jobs/{job_id}"]["get"]
    assert "api-version" in [p["name"] for p in job["parameters"]]
    classify = schema["paths"]["/language/tagwise/projects/{project}/deployments/{deployment}:classify"]["post"]
    assert "api-version" not in [p["name"] for p in classify["parameters"]]  # tagwise's own routes do not read it


def _resolved(schema: dict, node: dict) -> dict:
    return schema["components"]["schemas"][node["$ref"].removeprefix("#/components/schemas/")] if "$ref" in node else node


def test_request_bodies_are_declared(schema):
    paths = schema["paths"]
    train = _resolved(schema, paths[TRAIN]["post"]["requestBody"]["content"]["application/json"]["schema"])
    assert {"modelLabel", "trainingConfigVersion", "evaluationOptions"} <= set(train["properties"])
    project_file = paths["/language/authoring/analyze-text/projects/{project}/:import"]["post"]["requestBody"]
    assert {"metadata", "assets"} <= set(_resolved(schema, project_file["content"]["application/json"]["schema"])["properties"])
    patch = paths["/language/authoring/analyze-text/projects/{project}"]["patch"]["requestBody"]["content"]
    assert list(patch) == ["application/merge-patch+json"]  # Azure's; declared twice, a generated client's module did not import
    # the bodies' models are components, each once: inlined, a sub-model used twice in a body (ClassRef in the
    # project file) made openapi-python-client skip :import and POST .../documents
    refs = re.findall(r"'\$ref': '#/components/schemas/([^']+)'", str(schema))
    assert refs and set(refs) <= set(schema["components"]["schemas"]), set(refs) - set(schema["components"]["schemas"])
    assert "ClassRef" in schema["components"]["schemas"]


def test_operation_ids_are_the_handlers_names(schema):
    # FastAPI's own added path and method (up to 114 characters: 243-character paths in a generated client)
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)) and max(map(len, ids)) <= 40
    assert schema["paths"]["/language/authoring/analyze-text/projects"]["get"]["operationId"] == "list_projects"


def test_every_list_route_declares_its_paging(schema):
    # the Azure list routes paged by top/skip/maxpagesize without saying so: a generated client could not ask for page 2
    for path in ("/language/authoring/analyze-text/projects", "/language/authoring/analyze-text/projects/{project}/models",
                 "/language/authoring/analyze-text/projects/{project}/models/{label}/evaluation/result",
                 "/language/authoring/analyze-text/projects/{project}/deployments",
                 "/language/authoring/analyze-text/projects/{project}/train/jobs", "/language/tagwise/keys"):
        assert {"top", "skip", "maxpagesize"} <= {p["name"] for p in schema["paths"][path]["get"]["parameters"]}, path
    job = {p["name"] for p in schema["paths"]["/language/analyze-text/jobs/{job_id}"]["get"]["parameters"]}
    assert {"top", "skip", "showStats"} <= job


def test_responses_are_the_real_status_codes_and_the_error_envelope(schema):
    paths = schema["paths"]
    assert list(paths[TRAIN]["post"]["responses"]) == ["202", "4XX", "5XX"]
    assert "Operation-Location" in paths[TRAIN]["post"]["responses"]["202"]["headers"]
    assert {"200", "201"} <= set(paths["/language/authoring/analyze-text/projects/{project}"]["patch"]["responses"])
    assert "ErrorResponse" in schema["components"]["schemas"]
    for path in paths.values():
        for op in path.values():
            assert "422" not in op["responses"]
            assert op["responses"]["4XX"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_declaring_bodies_leaves_validation_to_the_azure_errors(client):
    """The bodies are in the schema only: a bad one still gets the Azure envelope, never a 422."""
    bad_train = client.post(f"{A}/nope/:train", params=V, json={"modelLabel": 5})
    assert bad_train.status_code == 400 and bad_train.json()["error"]["code"] == "InvalidArgument"
    no_version = client.post(f"{A}/nope/:train", json={"modelLabel": "m1"})
    assert no_version.status_code == 400 and no_version.json()["error"]["target"] == "api-version"
    not_json = client.post(f"{A}/nope/:import", params=V, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "InvalidArgument"
    assert not_json.json()["error"]["innererror"]["code"] == "InvalidRequestBodyFormat"
    wrong_type = client.post(f"{A}/nope/:import", params=V, content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert wrong_type.status_code == 415 and wrong_type.json()["error"]["code"] == "InvalidRequest"


def test_schema_errors_match_what_the_server_answers(client, schema):
    response = client.get(f"{A}/nope", params=V, headers={"Ocp-Apim-Subscription-Key": "wrong"})
    assert response.status_code == 401
    required = schema["components"]["schemas"]["ErrorObject"]["required"]
    assert set(required) <= set(response.json()["error"])


def test_tagwise_list_routes_declare_their_paging_and_filters(schema):
    documents = schema["paths"]["/language/tagwise/projects/{project}/documents"]
    assert set(documents) == {"get", "post"}
    params = {p["name"]: p for p in documents["get"]["parameters"]}
    assert {"top", "skip", "maxpagesize", "dataset", "class", "untagged", "search"} <= set(params)
    assert params["top"]["schema"]["type"] == "integer" and params["dataset"]["schema"]["enum"] == ["Train", "Test", "none"]
    fleet = schema["paths"]["/language/tagwise/deployments"]["get"]
    assert {"top", "skip", "maxpagesize"} <= {p["name"] for p in fleet["parameters"]}
    for op in (documents["get"], fleet):
        assert "api-version" not in [p["name"] for p in op["parameters"]]  # tagwise's own routes do not read it
    classify = schema["paths"]["/language/tagwise/projects/{project}/deployments/{deployment}:classify"]["post"]
    answer = classify["responses"]["200"]["content"]["application/json"]["schema"]
    answer = schema["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]] if "$ref" in answer else answer
    assert {"trainedModelLabel", "modelId"} <= set(answer["properties"]) and {"trainedModelLabel", "modelId"} <= set(answer["required"])
