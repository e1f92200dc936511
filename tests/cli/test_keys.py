"""`tagwise key`: create a runtime key, list it, revoke it — locally and against a server that honours each step."""

from __future__ import annotations

import json
import re

import httpx

from tests.cli.conftest import make_cli, ok
from tests.support.live_server import live_server


def test_create_list_revoke_locally(cli):
    created = ok(cli("key", "create", "router", "--role", "runtime"))
    secret = created.stdout.strip()
    assert len(secret) >= 32
    listed = ok(cli("key", "list")).stdout
    assert "router" in listed and "runtime" in listed and secret not in listed
    # --json, as every other list has (a script parsed the table for the ids)
    [router] = [k for k in json.loads(ok(cli("key", "list", "--json")).stdout) if k["name"] == "router"]
    assert router["role"] == "runtime" and secret[:6] == router["keyPrefix"] and secret not in json.dumps(router)
    missing = cli("key", "revoke", "no-such-key")
    assert missing.exit_code == 1 and "error:" in missing.stderr


def test_rotation_against_a_server(tmp_path):
    with live_server(tmp_path / "server") as server:
        cli = make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": server.key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})
        secret = ok(cli("key", "create", "router", "--role", "runtime")).stdout.strip()
        projects = f"{server.url}/language/authoring/analyze-text/projects?api-version=2023-04-01"
        forbidden = httpx.get(projects, headers={"Ocp-Apim-Subscription-Key": secret})
        assert forbidden.status_code == 403  # a runtime key cannot author
        key_id = next(line.split()[0] for line in ok(cli("key", "list")).stdout.splitlines() if "router" in line)
        ok(cli("key", "revoke", key_id))
        assert httpx.get(projects, headers={"Ocp-Apim-Subscription-Key": secret}).status_code == 401


def test_revoke_by_the_id_or_the_prefix_key_list_shows(cli):
    example = ok(cli("key", "revoke", "--help")).stdout
    ids = re.findall(r"^ +tagwise key revoke (\S+)", example, re.MULTILINE)
    assert ids and all(re.fullmatch(r"k[0-9a-f]{12}|[0-9a-f]{6}", i) for i in ids), example  # the forms key ids and prefixes have

    first = ok(cli("key", "create", "router", "--role", "runtime")).stdout.strip()
    ok(cli("key", "create", "batch", "--role", "runtime"))
    rows = {line.split()[1]: line.split() for line in ok(cli("key", "list")).stdout.splitlines()[1:]}
    key_id, prefix = rows["router"][0], rows["router"][3]
    assert re.fullmatch(r"k[0-9a-f]{12}", key_id) and prefix == first[:6]
    revoked = ok(cli("key", "revoke", prefix))
    assert f"revoked key {key_id} (prefix {prefix})" in revoked.stderr
    after = {line.split()[1]: line.split() for line in ok(cli("key", "list")).stdout.splitlines()[1:]}
    assert after["router"][-1] != "-" and after["batch"][-1] == "-"  # only that key is revoked
    assert "could not be found" in cli("key", "revoke", "abcdef" if prefix != "abcdef" else "fedcba").stderr
