"""``tagwise project create|list|show|delete|delete-documents``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import Enum

import typer
from rich.table import Table

from tagwise.cli.common import (
    AS_JSON,
    YES,
    UsageError,
    confirm,
    counted,
    err,
    handle_errors,
    kind_name,
    language_option,
    opened,
    out,
    print_json,
)
from tagwise.core.documents import models_note

app = typer.Typer(help="Create, list, show and delete projects, and list and delete their documents.", no_args_is_help=True,
                  epilog="Example: tagwise project create banking --kind single --language en")

KINDS = {"single": "CustomSingleLabelClassification", "multi": "CustomMultiLabelClassification"}


class Kind(str, Enum):
    single = "single"
    multi = "multi"


@app.command("create")
@handle_errors
def create(
    name: str = typer.Argument(..., metavar="NAME", help="Project name: ASCII letters, digits, '_', '.', '-' (at most 50; no accents or spaces)."),
    kind: Kind = typer.Option(..., "--kind", help="single: one class per document; multi: any number of classes."),
    language: str = typer.Option("en", callback=language_option, help="Language code of the documents, e.g. en, de, pt-BR."),
    multilingual: bool = typer.Option(False, "--multilingual", help="Documents in several languages: models embed them "
                                      "with the multilingual sentence encoder, whatever --language says."),
    description: str = typer.Option(None, help="Free text shown with the project."),
) -> None:
    """Create an empty project.

    \b
    Example:
      tagwise project create banking --kind single --language en
    """
    from tagwise.errors import Conflict, TagwiseError

    with opened() as be:
        try:
            be.get_project(name)
        except TagwiseError as exc:  # locally ProjectNotFound; remotely a RemoteError with that code
            if exc.code != "ProjectNotFound":
                raise
        else:
            raise Conflict(f"the project {name} already exists ({be.where})")
        body = {"projectKind": KINDS[kind.value], "language": language, "storageInputContainerName": name, "multilingual": multilingual}
        if description is not None:
            body["description"] = description
        project = be.upsert_project(name, body)
    say_created(project["projectName"], KINDS[kind.value], project["language"], project.get("multilingual"))


def say_created(name: str, project_kind: str, language: str, multilingual: bool | None) -> None:
    """``created project NAME (single-label, en)`` on stderr: `project create` and an import that creates its project."""
    languages = f"{language}, multilingual" if multilingual else language
    err().print(f"created project {name} ({kind_name(project_kind)}-label, {languages})", markup=False)


@app.command("list")
@handle_errors
def list_projects(as_json: bool = AS_JSON) -> None:
    """List the projects.

    \b
    Example:
      tagwise project list
      tagwise project list --json
    """
    with opened() as be:
        projects = be.list_projects()
    if as_json:
        print_json(projects)
        return
    table = Table("name", "kind", "language", "last trained", "last deployed", "description", box=None)
    for p in projects:
        table.add_row(p["projectName"], kind_name(p["projectKind"]), p["language"], p.get("lastTrainedDateTime", "-"),
                      p.get("lastDeployedDateTime", "-"), p.get("description") or "")
    if projects:
        out().print(table)
    else:
        err().print("no projects yet; create one with: tagwise project create NAME --kind single", markup=False)


@app.command("show")
@handle_errors
def show(name: str = typer.Argument(..., metavar="NAME", help="Project name."), as_json: bool = AS_JSON) -> None:
    """Show a project with its trained models and deployments.

    \b
    Example:
      tagwise project show banking
      tagwise project show banking --json    # {"project": ..., "models": [...], "deployments": [...]}
    """
    with opened() as be:
        project = be.get_project(name)
        models = be.list_models(name)
        deployments = be.list_deployments(name)
    if as_json:
        print_json({"project": project, "models": models, "deployments": deployments})
        return
    console = out()
    info = Table(box=None, show_header=False)
    for key, value in (("name", project["projectName"]), ("kind", f"{kind_name(project['projectKind'])}-label"),
                       ("language", project["language"] + (" (multilingual)" if project.get("multilingual") else "")),
                       ("description", project.get("description") or ""),
                       ("created", project["createdDateTime"]), ("last trained", project.get("lastTrainedDateTime", "-")),
                       ("last deployed", project.get("lastDeployedDateTime", "-"))):
        info.add_row(key, value)
    console.print(info)
    if models:
        table = Table("model", "model id", "trained", "recipe", "seconds", title="models", title_justify="left", box=None)
        for m in models:
            table.add_row(m["label"], m["modelId"], m["lastTrainedDateTime"], m["modelTrainingConfigVersion"],
                          str(m["lastTrainingDurationInSeconds"]))
        console.print(table)
    if deployments:
        table = Table("deployment", "model", "deployed", title="deployments", title_justify="left", box=None)
        for d in deployments:
            table.add_row(d["deploymentName"], d["trainedModelLabel"], d["lastDeployedDateTime"])
        console.print(table)


@app.command("delete")
@handle_errors
def delete(
    name: str = typer.Argument(..., metavar="NAME", help="Project name."),
    yes: bool = YES,
) -> None:
    """Delete a project with its documents, models and deployments.

    \b
    Example:
      tagwise project delete banking --yes
    """
    confirm(yes, f"Delete project {name} with its documents, models and deployments?", f"deleting {name}")
    with opened() as be:
        be.delete_project(name)
    err().print(f"deleted project {name}", markup=False)


def _locations_from(lines: Iterable[str]) -> list[str]:
    """Locations one per line (as they are: an id can end in a space, and "doc " stripped deleted "doc"), or
    the ``location`` of each JSON line `tagwise project documents --json` prints; blank lines are skipped."""
    found = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                location = json.loads(line).get("location")
            except (ValueError, AttributeError):
                location = None
            if not isinstance(location, str):
                raise UsageError(f"stdin:{number}: a JSON line without a string 'location'; nothing was deleted")
            line = location
        found.append(line)
    return found


@app.command("delete-documents")
@handle_errors
def delete_documents(
    name: str = typer.Argument(..., metavar="NAME", help="Project name."),
    locations: list[str] = typer.Argument(..., metavar="LOCATION...", help="The documents' locations, as `tagwise project "
                                          "documents` lists them; '-': read them from stdin, one per line (or the JSON "
                                          "lines `project documents --json` prints)."),
    yes: bool = YES,
) -> None:
    """Delete documents for good, by location: all of them, or none when one is not in the project.

    Their texts also leave the saved training data of the models trained on them (what `tagwise export
    --model` gives back); the models keep what they learned from them until deleted or retrained.

    \b
    Example:
      tagwise project delete-documents banking ticket-17.txt ticket-18.txt --yes
      tagwise project documents banking --search "ACME Corp" --top 0 --json | tagwise project delete-documents banking - --yes
    """
    if locations == ["-"]:  # a search's documents, thousands of them, did not fit a command line
        locations = _locations_from(sys.stdin)
        if not locations:  # a search that found nothing: a daily clean-up under `set -e` must not stop here
            err().print(f"deleted 0 documents of {name} (no locations on stdin)", markup=False)
            return
    confirm(yes, f"Delete {counted(len(set(locations)), 'document')} of project {name} for good?", f"deleting documents of {name}")
    with opened() as be:
        result = be.delete_documents(name, locations)
    err().print(f"deleted {counted(result['deleted'], 'document')} of {name}", markup=False)
    if trained := result["modelsTrainedOnThem"]:
        err().print(f"note: {models_note(trained)}", markup=False)


