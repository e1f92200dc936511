"""The ``tagwise`` command line: thin shells over the services the server uses.

By default every command works on the local data dir (``TAGWISE_DATA_DIR``) with no server;
``--endpoint URL --key KEY`` (or ``TAGWISE_ENDPOINT``/``TAGWISE_API_KEY``) sends the same
calls to a running server. One module per command group:

    projects.py  project create|list|show|delete      data.py      import, export, project documents (formats.py: file readers)
    models.py    model delete, deployment list|delete|swap
    training.py  train (--cancel), evaluate, deploy    classify.py  classify (streaming; resume.py: resuming)
    serve.py     serve, worker                         common.py    backend choice, errors, progress
    backup.py    backup, restore (the store, its model folders, the generated key)
    backends.py  the local services or a remote server, behind the same calls
    textfiles.py what the readers share: not UTF-8, CSV quotes, JSON errors as one FILE:LINE error
"""

from __future__ import annotations

import typer
from typer._click.core import ParameterSource

from tagwise import __version__
from tagwise.cli import backup, classify, data, keys, models, projects, serve, training
from tagwise.cli.common import EXIT_USAGE, OneLineErrors, Options, err, set_options

app = typer.Typer(
    cls=OneLineErrors,
    no_args_is_help=True,  # the help is the root callback's docstring, quickstart included (help= hid it)
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tagwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    endpoint: str = typer.Option(None, envvar="TAGWISE_ENDPOINT", help="URL of a tagwise server; default: work on the local data dir.", show_envvar=True),
    key: str = typer.Option(None, envvar="TAGWISE_API_KEY", help="API key of that server.", show_envvar=True),
    data_dir: str = typer.Option(None, envvar="TAGWISE_DATA_DIR", help="Local data dir (default ./tagwise-data).", show_envvar=True),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """tagwise: self-hosted custom text classification with an Azure-compatible API.

    Every command works on the local data dir by default, or on a server with --endpoint/--key,
    which go before the command (tagwise --endpoint URL --key KEY project list).

    \b
    Quickstart:
      tagwise project create banking --kind single
      tagwise import banking train.jsonl
      tagwise train banking --model v1
      tagwise deploy banking prod --model v1
      tagwise classify banking prod queries.txt -o out.jsonl
    """
    if problem := _root_option_problem(ctx, endpoint):
        err().print(f"error: {problem}", markup=False)
        raise typer.Exit(EXIT_USAGE)
    set_options(Options(endpoint=endpoint, key=key, data_dir=data_dir,
                        data_dir_typed=ctx.get_parameter_source("data_dir") == ParameterSource.COMMANDLINE,
                        endpoint_typed=ctx.get_parameter_source("endpoint") == ParameterSource.COMMANDLINE))


def _root_option_problem(ctx: typer.Context, endpoint: str | None) -> str | None:
    """What a root option typed on the command line would silently not do (the environment's
    values are not judged: TAGWISE_API_KEY is also a server's own key, TAGWISE_DATA_DIR a server's
    folder). ``--endpoint ""`` worked on the local data dir, creating it; ``--key`` without an
    endpoint was ignored (``--data-dir`` with one is refused by the commands that go to the server)."""
    def typed(name: str) -> bool:
        return ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE

    if typed("endpoint") and not (endpoint or "").strip():
        return "--endpoint is empty: give a tagwise server's URL, or leave --endpoint out to work on the local data dir"
    if typed("key") and not endpoint:  # the option reads TAGWISE_ENDPOINT too
        return ("--key is the key of a server given with --endpoint URL (or TAGWISE_ENDPOINT); without one, tagwise "
                "works on the local data dir and needs no key (a server's own key is TAGWISE_API_KEY or <data dir>/api-key)")
    return None


app.command()(serve.serve)
app.command()(serve.worker)
projects.app.command("documents")(data.documents)  # a look at a project's data, beside import and export
app.add_typer(projects.app, name="project")
app.add_typer(keys.app, name="key")
app.command("import")(data.import_)
app.command()(training.train)
app.command()(training.evaluate)
app.command()(training.deploy)
app.add_typer(models.model_app, name="model")
app.add_typer(models.deployment_app, name="deployment")
app.command()(classify.classify)
app.command()(data.export)
app.command()(backup.backup)
app.command()(backup.restore)


def main() -> None:
    app(prog_name="tagwise")
