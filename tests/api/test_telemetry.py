"""The access log: one line per request naming the key's id, never the query string or a secret."""

from __future__ import annotations

import logging
import re

import pytest

from tests.api.conftest import CLASSIFY, SINGLE, A, V, project_file
from tests.conftest import KEY, open_client

PATH = CLASSIFY.format(p="secret-project", d="prod")
LINE = re.compile(r'^testclient (\S+) "(\S+) (\S+)" (\d{3}) (\d+) (\d+\.\d)ms$')


@pytest.fixture(scope="module")
def served(tmp_path_factory, banking):
    """Settings of a data dir with project secret-project, its model m1 deployed as prod (trained
    in this process: these tests are about the requests after)."""
    from tagwise.core import deployments, training
    from tagwise.core.context import Context
    from tagwise.core.documents import import_project
    from tagwise.settings import Settings
    from tagwise.storage import records

    settings = Settings(data_dir=tmp_path_factory.mktemp("telemetry") / "data", api_key=KEY)
    ctx = Context.open(settings)
    try:
        import_project(ctx, "secret-project", project_file("secret-project", SINGLE, banking["train"]))
        job = training.start(ctx, "secret-project", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
        with ctx.db.write() as conn:
            assert records.claim_jobs(conn, "train", "test", 1) == [job["id"]]
        training.run(ctx, job["id"], lambda _percent: None)
        deployments.deploy(ctx, "secret-project", "prod", {"trainedModelLabel": "m1"})
    finally:
        ctx.close()
    return settings


@pytest.fixture
def access_lines():
    """The messages of the ``tagwise.access`` logger while the test runs."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("tagwise.access")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def only(lines: list[str], path: str) -> re.Match:
    [line] = [line for line in lines if f" {path}\" " in line]
    match = LINE.match(line)
    assert match, line
    return match


def test_a_classify_line_names_the_key_id_and_holds_no_query_or_secret(served, access_lines):
    from tagwise.core import keys

    with open_client(served) as client:
        record, secret = keys.create(client.app.state.ctx, "ticket router", keys.RUNTIME)
        body = {"documents": [{"id": "1", "text": "my card has not arrived"}, {"id": "2", "text": "how do I top up"}]}
        # a query string the route ignores: what the studio's search would put there must not reach the log
        response = client.post(PATH, params={"note": "private words"}, json=body, headers={"Ocp-Apim-Subscription-Key": secret})
        assert response.status_code == 200
    line = only(access_lines, PATH)
    client_key, method, path, status, size, _ms = line.groups()
    assert (client_key, method, path, status) == (record["id"], "POST", PATH, "200")
    assert int(size) == len(response.content)
    text = line.string
    assert "?" not in text and "private" not in text and secret not in text and KEY not in text


def test_each_answer_names_the_key_it_was_given_or_none(served, access_lines):
    from tagwise.core import keys

    with open_client(served) as client:
        _, runtime = keys.create(client.app.state.ctx, "app", keys.RUNTIME)
        assert client.get(f"{A}/secret-project", params=V).status_code == 200
        assert client.get(f"{A}", params=V, headers={"Ocp-Apim-Subscription-Key": runtime}).status_code == 403
        assert client.get("/health", headers={"Ocp-Apim-Subscription-Key": "wrong"}).status_code == 200
        assert client.post(PATH, json={}, headers={"Ocp-Apim-Subscription-Key": "wrong"}).status_code == 401
    assert only(access_lines, f"{A}/secret-project").group(1, 4) == ("bootstrap", "200")
    assert only(access_lines, A).group(1)[0] == "k"  # a refused runtime key is still named: whose client is misconfigured
    assert only(access_lines, "/health").group(1, 4) == ("-", "200")
    assert only(access_lines, PATH).group(1, 4) == ("-", "401")


def test_the_setting_turns_the_lines_off_and_the_counting_on(served, access_lines):
    with open_client(served.model_copy(update={"access_log": False})) as client:
        assert client.post(PATH, json={"documents": [{"id": "1", "text": "card declined"}]}).status_code == 200
        assert 'tagwise_documents_classified_total{source="classify"} 1.0' in client.get("/metrics").text
    assert access_lines == []


def test_a_path_cannot_break_its_line():
    from tagwise.api.telemetry import logged_path

    # a raw path reaches the log only as printable ASCII with no quote or space: a client cannot end
    # the line early or forge the next one
    assert logged_path({"raw_path": b'/studio/a"b c\nINFO: x\xe9', "path": "-"}) == "/studio/a%22b%20c%0AINFO:%20x%E9"
    assert logged_path({"raw_path": b"/language/x%2Fy", "path": "/language/x/y"}) == "/language/x%2Fy"  # as sent
    assert logged_path({"path": "/health"}) == "/health"  # a server that gives no raw path
