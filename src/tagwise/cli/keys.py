"""``tagwise key create|list|revoke``: API keys, hashed in the store; rotate by create, switch, revoke."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import typer
from rich.table import Table

from tagwise.cli.common import AS_JSON, UsageError, err, handle_errors, opened, out, print_json

PREFIX = re.compile(r"[0-9a-f]{6}")  # what `key list` shows of a secret (core/keys.py: the first 6 of its hex digits)

app = typer.Typer(help="Create, list and revoke API keys (authoring or runtime).", no_args_is_help=True,
                  epilog="Example: tagwise key create router --role runtime")


class Role(str, Enum):
    authoring = "authoring"
    runtime = "runtime"


@app.command("create")
@handle_errors
def create(
    name: str = typer.Argument(..., metavar="NAME", help="What the key is for, e.g. 'ticket router'."),
    role: Role = typer.Option(Role.runtime, help="runtime: classification only; authoring: everything."),
    rate_limit: int = typer.Option(None, "--rate-limit", min=0, help="Requests per minute for this key (0 = unlimited); "
                                   "default: TAGWISE_RATE_LIMIT_PER_MINUTE."),
) -> None:
    """Create a key and print its secret (the only time it is shown; only its hash is stored).

    \b
    Example (rotation without downtime):
      tagwise key create router-2026 --role runtime     # give the new key to the clients
      tagwise key revoke <old key id>                   # then revoke the old one
    """
    with opened() as be:
        key = be.create_key(name, role.value, rate_limit)
    err().print(f"created {key['role']} key {key['keyId']} ({key['name']}); its secret, shown once:", markup=False)
    out().print(key["key"], markup=False)


@app.command("list")
@handle_errors
def list_keys(as_json: bool = AS_JSON) -> None:
    """List keys (never their secrets), revoked ones included.

    \b
    Example:
      tagwise key list
      tagwise key list --json    # [{"keyId", "name", "role", "keyPrefix", "rateLimitPerMinute", ...}]
    """
    with opened() as be:
        keys = be.list_keys()
    if as_json:  # the one list without it: a script parsed the table for the ids
        print_json(keys)
        return
    table = Table("id", "name", "role", "prefix", "rate limit/min", "created", "revoked", box=None)
    for k in keys:
        table.add_row(k["keyId"], k["name"], k["role"], k["keyPrefix"], str(k["rateLimitPerMinute"] if k["rateLimitPerMinute"] is not None else "default"),
                      k["createdDateTime"], k["revokedDateTime"] or "-")
    out().print(table)


@app.command("revoke")
@handle_errors
def revoke(key_id: str = typer.Argument(..., metavar="KEY_ID", help="The key's id, or its prefix when no other key "
                                        "has it (both in `tagwise key list`).")) -> None:
    """Revoke a key: every server process refuses it within a second.

    \b
    Example:
      tagwise key revoke k9861facb9b21      # the id `tagwise key list` shows
      tagwise key revoke 3f2a9c             # or the key's prefix (its secret's first 6 characters)
    """
    with opened() as be:
        resolved = _by_prefix(be, key_id)
        be.revoke_key(resolved)
    named = f"{resolved} (prefix {key_id})" if resolved != key_id else key_id
    err().print(f"revoked key {named}", markup=False)


def _by_prefix(be: Any, given: str) -> str:
    """The id of the one unrevoked key whose prefix is ``given``; anything else is taken as an id.
    Ids (``k`` + 12 hex digits) and prefixes (6 hex digits) never look alike."""
    if not PREFIX.fullmatch(given):
        return given
    matches = [k["keyId"] for k in be.list_keys() if k["keyPrefix"] == given and not k["revokedDateTime"]]
    if len(matches) > 1:
        raise UsageError(f"the keys {', '.join(matches)} all have the prefix {given}; revoke one by its id")
    return matches[0] if matches else given
