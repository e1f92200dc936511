"""``tagwise model delete`` and ``tagwise deployment list|delete|swap``: what the API does with trained
models and deployments (the studio's Deploy page with deployments), from a shell (``tagwise project
show`` lists a project's models and deployments; ``tagwise deployment list`` every project's deployments)."""

from __future__ import annotations

import typer
from rich.table import Table

from tagwise.cli.common import AS_JSON, YES, confirm, err, handle_errors, opened, out, print_json

model_app = typer.Typer(help="Delete trained models (tagwise project show lists them).", no_args_is_help=True,
                        epilog="Example: tagwise model delete banking v1")
deployment_app = typer.Typer(help="List, delete and swap deployments (tagwise deploy creates them).", no_args_is_help=True,
                             epilog="Example: tagwise deployment swap banking production staging")


@model_app.command("delete")
@handle_errors
def delete_model(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    label: str = typer.Argument(..., metavar="LABEL", help="The trained model's label."),
    yes: bool = YES,
) -> None:
    """Delete a trained model with its evaluation and its files. A model a deployment serves is
    refused: delete or redeploy that deployment first.

    \b
    Example:
      tagwise model delete banking v1 --yes
    """
    confirm(yes, f"Delete model {label} of {name} with its evaluation?", f"deleting model {label}")
    with opened() as be:
        be.delete_model(name, label)
    err().print(f"deleted model {name}/{label}", markup=False)


@deployment_app.command("list")
@handle_errors
def list_deployments(
    name: str = typer.Argument(None, metavar="[NAME]", help="Only this project's deployments (default: every project's)."),
    as_json: bool = AS_JSON,
) -> None:
    """List the deployments of every project, or of one.

    Each with the model it serves, when that was trained and deployed, and its expiry date.

    \b
    Example:
      tagwise deployment list
      tagwise deployment list banking --json
    """
    with opened() as be:
        deployments = be.list_deployments(name) if name else be.list_all_deployments()
    if as_json:
        print_json(deployments)
        return
    table = Table("project", "deployment", "model", "model id", "trained", "deployed", "expires", box=None)
    for d in deployments:
        table.add_row(d.get("projectName", name), d["deploymentName"], d.get("trainedModelLabel", "-"), d["modelId"],
                      d["lastTrainedDateTime"], d["lastDeployedDateTime"], d["deploymentExpirationDate"])
    if deployments:
        out().print(table)
    else:
        where = f"in {name}" if name else "in any project"
        err().print(f"no deployments {where} yet; make one with: tagwise deploy PROJECT DEPLOYMENT --model LABEL", markup=False)


@deployment_app.command("delete")
@handle_errors
def delete_deployment(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    deployment: str = typer.Argument(..., metavar="DEPLOYMENT", help="Deployment name."),
    yes: bool = YES,
) -> None:
    """Stop serving a deployment; its trained model stays (tagwise model delete removes that).

    \b
    Example:
      tagwise deployment delete banking staging --yes
    """
    confirm(yes, f"Delete deployment {deployment} of {name}? Requests to it will fail.", f"deleting deployment {deployment}")
    with opened() as be:
        be.delete_deployment(name, deployment)
    err().print(f"deleted deployment {name}/{deployment}", markup=False)


@deployment_app.command("swap")
@handle_errors
def swap(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    first: str = typer.Argument(..., metavar="FIRST", help="A deployment."),
    second: str = typer.Argument(..., metavar="SECOND", help="Another deployment of the project."),
) -> None:
    """Swap the models of two deployments at once, e.g. promote staging to production (and keep
    the old production model under staging, to swap back).

    \b
    Example:
      tagwise deployment swap banking production staging
    """
    with opened() as be:
        be.swap_deployments(name, first, second)
        served = {d["deploymentName"]: d["trainedModelLabel"] for d in be.list_deployments(name)}
    err().print(f"swapped: {first} serves {served.get(first)}, {second} serves {served.get(second)}", markup=False)
