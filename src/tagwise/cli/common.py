"""What every command shares: the backend choice, error handling and exit codes, consoles, progress bars.

Exit codes: 0 ok; 1 the service (local or remote) refused or failed, printed as one line
``error: <message>``; 2 usage error, also one line (bad option, missing argument, an input file
that cannot be read as its format: :class:`UsageError` after parsing, :class:`OneLineErrors`
for what click finds while parsing); 3 classify ran but some documents could not be classified;
130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text
from typer._click.exceptions import ClickException, NoArgsIsHelpError, NoSuchOption
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from tagwise.core.validation import CONTROL_BUT_LINE_BREAKS
from tagwise.errors import TagwiseError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SOME_FAILED = 3  # classify ran to the end, but some documents could not be classified (their error field says why)
EXIT_INTERRUPTED = 130
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Options:
    """The root options (``tagwise --endpoint URL --key KEY COMMAND`` or ``tagwise --data-dir DIR COMMAND``)."""

    endpoint: str | None = None
    key: str | None = None
    data_dir: str | None = None
    data_dir_typed: bool = False  # --data-dir on the command line, not TAGWISE_DATA_DIR
    endpoint_typed: bool = False  # --endpoint on the command line, not TAGWISE_ENDPOINT


class UsageError(Exception):
    """A problem with what the user typed or gave us (exit code 2), found after parsing."""


class _Plain(Console):
    """A console that prints text as it is: no Rich markup (a project description "[/oops]" ended
    ``tagwise project list`` in a traceback, and "[red]" coloured it) and control characters as
    escapes (``\\x1b``: a document text or description holding ESC sequences rewrote the terminal it
    was listed in). Progress bars draw with Rich's own control segments, which this leaves alone."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(_printable(text), **kwargs)


def _printable(text: str) -> str:
    return CONTROL_BUT_LINE_BREAKS.sub(lambda found: found.group().encode("unicode_escape").decode(), text)  # \r: Rich drops it


class _PlainColumn(TextColumn):
    """A progress bar's text as it is: a file named "a[red]b.csv" showed as a red "ab.csv", and an ESC in a name
    reached the terminal."""

    def render(self, task: Any) -> Text:
        return Text(_printable(self.text_format.format(task=task)))


class _Stdout(_Plain):
    def on_broken_pipe(self) -> None:
        """``tagwise evaluate ... | grep -q accuracy``: the reader left, nothing to report (rich's own
        exits 1, which failed such a pipeline under ``set -o pipefail``, where classify's output exits 0)."""
        _silence_stdout()
        raise typer.Exit(0)


def out() -> Console:
    """Where results go (stdout); wide when redirected, so tables keep whole class names."""
    console = _Stdout(highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 200
    return console


def err() -> Console:
    """Where progress, notes and errors go (stderr), so stdout stays clean for pipes."""
    return _Plain(stderr=True, highlight=False, soft_wrap=True)


_current = Options()


def set_options(value: Options) -> None:
    """Called by the root callback on every invocation."""
    global _current
    _current = value


def options() -> Options:
    return _current


def backend():  # -> Backend, imported lazily
    """The local store, or the remote server when an endpoint is given."""
    from tagwise.cli.backends import LocalBackend, RemoteBackend

    opts = options()
    endpoint = opts.endpoint or os.environ.get("TAGWISE_ENDPOINT")
    if endpoint:
        key = opts.key or os.environ.get("TAGWISE_API_KEY")
        if not key:
            raise UsageError("--endpoint needs an API key: pass --key KEY or set TAGWISE_API_KEY.")
        if opts.data_dir_typed:  # it was ignored without a word (serve, worker and backup read it: no endpoint there)
            raise UsageError(f"--data-dir is for local work, and this command goes to the server at {endpoint} (--endpoint or "
                             "TAGWISE_ENDPOINT): leave one of them out")
        return RemoteBackend(endpoint, key)
    settings = load_settings()
    if (store := settings.sqlite_file) is not None and not store.exists() and _command() not in STARTS_A_STORE:
        # `tagwise --data-dir typo project list` made an empty store there and listed no projects without a word
        err().print(f"note: no tagwise store was at {store}: this starts an empty one (a mistyped --data-dir or "
                    "TAGWISE_DATA_DIR?)", markup=False)
    return LocalBackend(settings)


STARTS_A_STORE = {"project create", "import", "key create"}  # the local commands that begin a store on purpose


def _command() -> str:
    """The command being run, without the program's name (``project create``)."""
    from typer._click.globals import get_current_context

    names, ctx = [], get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:  # the root's name is the program's, "python -m tagwise" too
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def load_settings():  # -> Settings, imported lazily
    """The TAGWISE_* settings (``--data-dir`` wins); a bad value is one ``error:`` line per
    variable and exit code 2, not a traceback."""
    from pydantic import ValidationError

    from tagwise.settings import Settings

    data_dir = options().data_dir
    try:
        settings = Settings(data_dir=data_dir) if data_dir else Settings()
    except ValidationError as exc:
        for error in exc.errors():
            if not error["loc"]:  # a rule between settings: its input is every value, the API key included
                err().print(f"error: {error['msg'].removeprefix('Value error, ')}", markup=False)
                continue
            name = "TAGWISE_" + "_".join(str(part) for part in error["loc"]).upper()
            shown = error.get("input")
            if name == "TAGWISE_DATABASE_URL" and isinstance(shown, str):  # never print its password
                shown = re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", shown)
            if name == "TAGWISE_API_KEY":
                shown = "***"
            err().print(f"error: {name}={shown!r}: {error['msg']}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    if settings.encoder_model_dir is not None:  # a folder that cannot be an encoder: say so before anything starts
        from tagwise.ml.encoder import check_model_folder

        try:
            check_model_folder(settings.encoder_model_dir)
        except TagwiseError as exc:
            err().print(f"error: TAGWISE_ENCODER_MODEL_DIR: {exc.message}", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
    return settings


@contextmanager
def opened() -> Iterator[Any]:
    be = backend()
    try:
        yield be
    finally:
        be.close()


def handle_errors(func: F) -> F:
    """Turn domain/remote errors into one ``error:`` line and exit code 1, usage problems into 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            err().print(f"error: {exc}", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
        except TagwiseError as exc:
            err().print(f"error: {exc.message}", markup=False)
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            err().print("interrupted", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:  # `tagwise classify ... | head`: the reader left, nothing to report
            _silence_stdout()
            raise typer.Exit(0) from None
        except UnicodeDecodeError as exc:  # a reader that could not say which file (the readers name it)
            err().print(f"error: an input is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
        except OSError as exc:  # a file we could not read or write
            where = f"{exc.filename}: " if exc.filename else ""
            err().print(f"error: {where}{exc.strerror or exc}", markup=False)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]


class OneLineErrors(TyperGroup):
    """The root command: what click refuses while parsing (an unknown option or command, a missing
    argument, a bad value) is one ``error: ... (see tagwise CMD --help)`` line and exit code 2, like the
    usage errors the commands find themselves, instead of click's usage block."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        if message := _undecodable(sys.argv[1:] if args is None else list(args)):
            err().print(message, markup=False)
            sys.exit(EXIT_USAGE)
        try:
            # Not standalone, click (vendored by typer, which is pinned) raises its errors instead of printing
            # them, and an Exit comes back as its code.
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # `tagwise` or `tagwise project` alone: the help
            exc.show()
            code = exc.exit_code
        except ClickUsageError as exc:
            err().print(usage_line(exc), markup=False)
            code = EXIT_USAGE
        except ClickException as exc:
            err().print(f"error: {' '.join(exc.format_message().split())}", markup=False)
            code = exc.exit_code
        except typer.Abort:
            err().print("aborted", markup=False)
            code = EXIT_ERROR
        sys.exit(code if isinstance(code, int) else 0)


def _undecodable(args: list[Any]) -> str | None:
    """The error for an argument holding a byte that is not UTF-8 (Python keeps it as a lone surrogate, and
    a project name so typed ended 13 local commands in a UnicodeEncodeError traceback), else None."""
    for arg in args:
        if isinstance(arg, str) and (bad := next((c for c in arg if "\udc80" <= c <= "\udcff"), None)):
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return f"error: the argument {shown!r} is not UTF-8 text (byte 0x{ord(bad) - 0xDC00:02x}): type it again in UTF-8"
    return None


def usage_line(exc: ClickUsageError) -> str:
    """``error: No such option: --bogus (see tagwise train --help)``: click's message on one line."""
    message = " ".join(exc.format_message().split())
    message = message.removesuffix(".")
    hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
    if isinstance(exc, NoSuchOption) and exc.ctx is not None and exc.ctx.parent is not None and exc.option_name in ROOT_OPTIONS:
        # typed after the command, it pointed at a help page that does not list it
        command = exc.ctx.command_path.split(" ", 1)[1]
        hint = f" ({exc.option_name} goes before the command: tagwise {exc.option_name} ... {command}; see tagwise --help)"
    return f"error: {message}{hint}"


ROOT_OPTIONS = ("--endpoint", "--key", "--data-dir")  # --version takes no value: "tagwise --version ... train" reads wrong


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file descriptor (e.g. captured in tests)
        pass


def check_output_file(output: Path, example: str) -> None:
    """Refuse, as a usage error (exit 2), an OUTPUT that is a folder or in a folder that does not
    exist, before any work is done (classify wrote "No such file or directory" and exited 1 after
    loading the model)."""
    if output.is_dir():
        raise UsageError(f"{output} is a folder; give the file to write, e.g. -o {output / example}")
    if not output.parent.is_dir():
        raise UsageError(f"{output}: no folder {output.parent}")


def language_option(value: str | None) -> str | None:
    """``--language``'s check, as a usage error (exit 2) on every command that takes it, before any
    work: ``project create --language english`` exited 1 (the service refused it) where
    ``classify --language english`` exited 2, and ``--language ""`` read "needs language in the body"."""
    from tagwise.core.validation import language_code

    if value is None:
        return None
    if (code := language_code(value)) is None:
        raise typer.BadParameter(f"{value!r} is not a language code such as 'en', 'de' or 'pt-BR'")
    return code  # as the service spells it: EN is en, pt_br is pt-BR


def search_option(value: str | None) -> str | None:
    """``--search``'s length check as a usage error (exit 2), locally and remotely (the service's
    refusal exited 1)."""
    from tagwise.core.validation import MAX_SEARCH_CHARACTERS

    if value is not None and len(value) > MAX_SEARCH_CHARACTERS:
        raise typer.BadParameter(f"it is {len(value):,} characters; it takes at most {MAX_SEARCH_CHARACTERS:,} "
                                 "(a few words of the text or its location)")
    return value


def progress(*, total_known: bool = True) -> Progress:
    """A progress bar on stderr; silent when stderr is not a terminal (pipes, CI, tests)."""
    console = err()
    columns: list[Any] = [SpinnerColumn(), _PlainColumn("{task.description}"), BarColumn()]
    columns += [MofNCompleteColumn(), TimeRemainingColumn()] if total_known else [TextColumn("{task.completed:,.0f}")]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, disable=not console.is_terminal, transient=False)


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: "1 document", "2,000 documents", "1 class".

    >>> counted(1, "document"), counted(2_000, "document"), counted(1, "class"), counted(0, "class")
    ('1 document', '2,000 documents', '1 class', '0 classes')
    """
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {noun}{'es' if noun.endswith('s') else 's'}"


def kind_name(project_kind: str) -> str:
    return "multi" if "Multi" in project_kind else "single"


YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (needed when not on a terminal).")  # what confirm() reads
# a script read which model production serves off a table with awk: the API's objects instead
AS_JSON = typer.Option(False, "--json", help="Print the API's objects as JSON instead of a table (for scripts).")


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout."""
    import json

    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def confirm(yes: bool, question: str, what: str) -> None:
    """Ask ``question`` before a deletion unless ``--yes`` was given; off a terminal (a script, CI)
    refuse instead of waiting for an answer that cannot come."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs confirmation: pass --yes")
    typer.confirm(question, abort=True, err=True)  # on stderr, as every message: stdout may be a file


@contextmanager
def on_sigterm(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """``handler`` for SIGTERM (cron's or systemd's stop) while the block runs, the one before after it;
    nothing off the main thread, where Python takes no signal handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def sigterm_as_interrupt() -> AbstractContextManager[None]:
    """SIGTERM ends a command as Ctrl-C does: a local training's job is marked failed instead of left
    running, and a classify says how far it got and exits 130 (it exited 143 saying nothing)."""
    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    return on_sigterm(interrupt)
