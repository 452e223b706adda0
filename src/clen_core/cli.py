"""The ``clen`` command line: listings, schemas, validate, convert, demo, generate, pt-report.

Exit codes: 0 ok; 1 the data has error-severity findings (or rejects under
``--strict``); 2 usage error, missing file, unreadable format; 130 interrupted
(Ctrl-C, at any moment: quietly, temporary files removed). Errors are one
line naming file, row and field, in the command's own words (its options, not
the library's arguments); ``--debug`` shows the traceback. Any other exception
is a bug in clen_core or a plugin: it is one line too, saying so and asking for
a report (exit code 2; ``--debug`` shows its traceback). Every command takes
``--json``; other output is plain text (no boxes, no wrapping) when it is not a
terminal, and a reader that stops early (``| head``) ends the command quietly.
Progress bars appear on a terminal only, never when output is piped or with
``--quiet``: a long read shows the bytes read, the total and the time left.
``python -m clen_core`` is the same command; ``--install-completion`` adds
completion (commands, options, entities, formats, rules) to the shell.
"""

# This module only parses arguments, calls the library (clen_core.validate_path, convert,
# ...) and renders what it returns. The process's tuning is the launcher's
# (clen_core_launch), which this module never imports.

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer
import typer.core

import clen_core
from clen_core.errors import ClenError, RejectedRowsError, UnknownFormatError
from clen_core.io import atomic_file, convert, read_dataset, validate_path, write_dataset
from clen_core.io.commands import (
    PathValidation,
    _entity_from_metadata,  # the library's own reading of a file's entity, said the same way
    _is_entity_folder,
    _named_entity,
)
from clen_core.io.formats import (
    HEAD_BYTES,
    Format,
    describe,
    format_for_path,
    formats,
    get_format,
    read_format,
)
from clen_core.io.migrate import migrate_dataset
from clen_core.io.partitioned import parse_size
from clen_core.io.records import json_bytes
from clen_core.model.entity import entities, get_entity
from clen_core.plugins import list_plugins
from clen_core.rules import Report, Severity, get_rule, rules, validate
from clen_core.rules.report import READ_RULE, Finding

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["app", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

app = typer.Typer(
    name="clen",
    help="Customs-laboratory data: entities, schemas, validation and conversion (clen_core).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_F = TypeVar("_F", bound=Callable[..., Any])


class _Command(typer.core.TyperCommand):
    """A command whose usage line names its arguments plainly (``clen validate [OPTIONS]
    PATH``), without the braces typer puts around the required ones."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [re.sub(r"^\{(.*)\}$", r"\1", p) for p in super().collect_usage_pieces(ctx)]


def _command(name: str) -> Callable[[_F], _F]:
    return app.command(name, cls=_Command)


# --------------------------------------------------------------------------- output


class _LazyConsole:
    """A rich ``Console`` made at its first use.

    Importing rich takes 25-30 ms, a twentieth of a command's start; output that
    is not a terminal is printed without it, and a command that fails early, or
    reads a big file first, need not wait for it there.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def get(self) -> Console:
        """The console itself (made now if not yet)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


def _real(console: Console) -> Console:
    """The rich console behind ``out`` or ``err``, for rich's own objects that take one."""
    lazy: Any = console
    return lazy.get() if isinstance(lazy, _LazyConsole) else console


def _import_rich_meanwhile() -> None:
    """Start importing rich in a background thread, for a command about to read a file and
    then print a table on a terminal.

    The import (25-30 ms of Python) then runs while the reading and checking
    threads work in Arrow, which mostly runs without the GIL, instead of after them.
    """
    threading.Thread(target=_import_rich, name="clen-import", daemon=True).start()


def _import_rich() -> None:
    # A failure here is not reported: printing imports rich again, and says what is wrong.
    with contextlib.suppress(Exception):
        import rich.console
        import rich.table  # noqa: F401


out = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
err = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))
_state = {"debug": False}


def _tty(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (a person reads it): rich output, else plain text."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced by something without it, or closed
        return False


def _say(text: str) -> None:
    """A line of output, as it is (plain text: never wrapped, no markup)."""
    print(_encodable(text))


def _warn(text: str) -> None:
    """A line on stderr."""
    print(_encodable(text), file=sys.stderr)


def _encodable(text: str) -> str:
    """``text`` with any lone surrogate (a \\ud800 escape read from a JSON file, which no
    encoding can write) as that escape again."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _print_json(data: Any) -> None:
    # Valid JSON whatever the data hold: NaN and infinities as text, a lone surrogate
    # (from a \\ud800 escape in a JSON file) as that escape (see records.json_bytes).
    text = json_bytes(data).decode("utf-8")
    if _tty(sys.stdout):
        out.print_json(text)
    else:
        print(text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _cell(text: str) -> str:
    """A value shown in a table or an error line: control characters (a terminal acts
    on them, as on ESC or CSI), line breaks and lone surrogates as their escapes, so
    that what a file holds prints as one line and does nothing to the terminal."""
    return _CONTROL.sub(lambda m: repr(m[0])[1:-1], text)


def _table(title: str | None, columns: list[str], rows: list[list[str]]) -> None:
    """A table: boxed on a terminal, else plain aligned columns (one line a row, unwrapped)."""
    rows = [[_cell(c) for c in r] for r in rows]
    if _tty(sys.stdout):
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for c in columns:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*r)
        out.print(table)
        return
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns) - 1)]
    if title:
        _say(f"{title}:")
    for r in [columns, *rows]:
        _say("  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip())


_ROLE_SHORT = r":[\w:.-]+:`~(?:[^`]*\.)?([^`.]+)`"
_ROLE_TEXT = r":[\w:.-]+:`([^`<]+?)\s*<[^>]*>`"
_ROLE = r":[\w:.-]+:`([^`]+)`"
_LINK = r"`([^`<]+?)\s*<([^>]+)>`__?"
_LITERAL = r"``(.+?)``"


def _plain(text: str) -> str:
    """A docstring's reST as plain text: ``x`` and :role:`x` as x, links as text (url)."""
    # Patterns as strings: compiled (and cached by re) at the first use, not at start-up.
    text = re.sub(_ROLE_SHORT, r"\1", text)
    text = re.sub(_ROLE_TEXT, r"\1", text)
    text = re.sub(_ROLE, r"\1", text)
    text = re.sub(_LINK, r"\1 (\2)", text)
    return re.sub(_LITERAL, r"\1", text)


def _plain_descriptions(data: Any) -> Any:
    """A JSON document (a schema) with the reST of its descriptions made plain."""
    if isinstance(data, dict):
        return {
            k: _plain(v) if k == "description" and isinstance(v, str) else _plain_descriptions(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_plain_descriptions(v) for v in data]
    return data


# --------------------------------------------------------------------------- errors


class _Usage(ClenError):
    """A usage error found by the command itself (an unknown name, options that clash)."""


def _fail(message: str) -> NoReturn:
    _warn(f"error: {_cell(_capped(message))}")
    raise typer.Exit(EXIT_USAGE)


_WORDS = {
    "format": "--format",
    "entity": "--entity",
    "delimiter": "--delimiter",
    "decimal": "--decimal",
    "encoding": "--encoding",
}
"""The library's arguments and the options that set them, by default (``convert`` says
``--from`` for ``format``)."""


@contextlib.contextmanager
def _errors(**words: str) -> Iterator[None]:
    """Turn the library's errors (ClenError) and the system's (OSError: a missing file, a
    full disk) into one line in the command's words, and exit code 2.

    ``words``: the options that set the library's arguments here (``format="--from"``).
    Any other exception is a bug and goes on to :func:`main`, which reports it as one.
    """
    try:
        yield
    except BrokenPipeError:
        raise  # the reader went away (| head): not an error of ours
    except (ClenError, OSError) as exc:
        _fail(_known_error(exc, {**_WORDS, **words}))


def _known_error(exc: ClenError | OSError, words: Mapping[str, str] = _WORDS) -> str:
    """The line that tells an error of the data, the arguments or the system (with
    ``--debug``, its traceback is printed first)."""
    if _state["debug"]:
        traceback.print_exception(exc)
    if isinstance(exc, OSError):
        return _system_error(exc)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if len(lines) > 1:  # an error listing its items on lines of their own: one line
        text = text.rstrip(":") + ": " + "; ".join(line.lstrip("-• ") for line in lines[1:])
    return _in_cli_words(text, words)


def _system_error(exc: OSError) -> str:
    """An error of the system as ``file: what`` (the file first, as every other error),
    whatever the library below said (Arrow's C++ layer words it on several lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    what = exc.strerror if exc.strerror else (lines[0] if lines else type(exc).__name__)
    if exc.filename is None:
        return what
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" → {os.fsdecode(exc.filename2)}"
    return f"{where}: {what}"


def _in_cli_words(text: str, words: Mapping[str, str] = _WORDS) -> str:
    """A library message that names an API argument or call, in the command's words."""

    def option(name: str) -> str:
        return words.get(name, "--" + name.replace("_", "-"))

    text = re.sub(
        r"read it with clen_core\.read_dataset\(path\)",
        "clen validate reads it whole, clen convert one entity's file",
        text,
    )
    text = re.sub(r"read it with clen_core\.read\(path, entity='\.\.\.'\)", "give --entity", text)
    text = re.sub(
        r"read it with clen_core\.read\(path, entity='([\w.-]+)'\)", r"give --entity \1", text
    )
    text = re.sub(r"read it with format='([\w.-]+)'", lambda m: f"give {option('format')} {m[1]}",
                  text)  # fmt: skip
    text = re.sub(r"give the decimal separator", f"give {option('decimal')}", text)
    text = re.sub(r"give the (entity|delimiter|encoding)\b", lambda m: f"give {option(m[1])}", text)
    text = re.sub(r"\s*\(on_reject='collect' keeps the good rows without raising\)", "", text)
    return re.sub(
        r"\b(give|pass|use|set) ([a-z_]+)=(?=$|[\s;,.)])",
        lambda m: f"{m[1]} {option(m[2])}",
        text,
    )


_ITEM = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,;:()\[\]{}'\"]+"
_LONG_LIST = rf"(?:{_ITEM})(?:, (?:{_ITEM})){{30,}}"
_SHOWN_ITEMS = 20
_MAX_MESSAGE = 2000


def _capped(text: str) -> str:
    """A message with its long lists cut ("a, b, ... and 9,990 more") and its length bounded."""

    def cut(m: re.Match[str]) -> str:
        items = re.findall(_ITEM, m[0])
        return ", ".join(items[:_SHOWN_ITEMS]) + f" and {len(items) - _SHOWN_ITEMS:,} more"

    text = re.sub(_LONG_LIST, cut, text)
    if len(text) > _MAX_MESSAGE:
        rest = len(text) - _MAX_MESSAGE
        text = text[:_MAX_MESSAGE] + f"... ({rest:,} more characters; --debug shows all)"
    return text


def _internal_error(exc: BaseException) -> NoReturn:
    """Report a bug: its traceback with ``--debug``, else one line saying how to see it."""
    if _state["debug"]:
        traceback.print_exception(exc)
    else:
        text = str(exc).strip().splitlines()
        what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
        _warn(
            f"error: internal error ({_cell(_capped(what))}); "
            "run with --debug for the traceback, and please report it"
        )
    raise SystemExit(EXIT_USAGE)


# --------------------------------------------------------------------------- names


def _did_you_mean(word: str, choices: Iterable[str], names: Mapping[str, str] | None = None) -> str:
    """``"; did you mean x?"`` for the choices close to ``word`` (``names``: how each is said)."""
    scored = [(difflib.SequenceMatcher(None, word, c).ratio(), c) for c in choices]
    best = max((r for r, _ in scored), default=0.0)
    # The close ones, and of those only the nearly best: "activity", not "action_plan_item".
    close = [c for r, c in sorted(scored, reverse=True) if r >= max(0.6, best - 0.1)]
    said = list(dict.fromkeys((names or {}).get(c, c) for c in close))[:3]
    return f"; did you mean {' or '.join(said)}?" if said else ""


def _entity_keys() -> dict[str, str]:
    """Every spelling of every entity (name, class name, any case) → its name."""
    keys: dict[str, str] = {}
    for e in entities():
        for k in (e.name, e.cls.__name__, e.name.replace("_", "")):
            keys.setdefault(k.lower(), e.name)
    return keys


def _entity(text: str) -> str:
    """The entity named ``text``: its name or class name in any case (``Activity``,
    ``PTStudy``, ``pt-study``); an unknown one is a usage error that suggests the close ones."""
    keys = _entity_keys()
    key = text.strip().lower().replace("-", "_")
    for k in (key, key.replace("_", "")):
        if k in keys:
            return keys[k]
    raise _Usage(
        f"unknown entity {text!r}{_did_you_mean(key, keys, keys)} "
        f"(clen entities lists the {len(entities())})"
    )


def _format(text: str, option: str) -> Format:
    """The format named ``text`` (its name or an extension, any case) for ``option``."""
    known = formats()
    key = text.strip().lower().lstrip(".")
    for f in known:
        if key == f.name or f".{key}" in f.extensions:
            return f
    names = {f.name: f.name for f in known} | {e.lstrip("."): f.name for f in known
                                               for e in f.extensions}  # fmt: skip
    raise _Usage(
        f"unknown format {text!r} ({option}); known: {', '.join(f.name for f in known)}"
        + _did_you_mean(key, names, names)
    )


def _format_of(path: Path, option: str, *, head: bool = True) -> Format:
    """The format of ``path`` from its name (and first bytes); else a usage error naming
    ``option``."""
    first = None
    if head and path.is_file():
        with open(path, "rb") as f:
            first = f.read(HEAD_BYTES)
    try:
        return format_for_path(path, head=first)
    except UnknownFormatError:
        endings = ", ".join(e for f in formats() for e in f.extensions)
        raise _Usage(
            f"cannot tell the format of {path}: its name ends in no known extension "
            f"({endings}); give {option}"
        ) from None


def _rule_ids(values: Sequence[str] | None) -> list[str]:
    """``--select PT,REF-001 --select ACT``: the IDs and prefixes given, upper case."""
    return [v.strip().upper() for value in values or () for v in value.split(",") if v.strip()]


def _selection(select: Sequence[str] | None, ignore: Sequence[str] | None) -> list[str] | None:
    """The rule IDs ``--select`` and ``--ignore`` leave, as ruff chooses: a rule follows the
    most specific selector that matches it (the longest; ``--ignore`` on a tie); with no
    ``--select``, every rule is selected. ``None`` when neither is given."""
    chosen, dropped = _rule_ids(select), _rule_ids(ignore)
    if not chosen and not dropped:
        return None
    ids = [r.id for r in rules()]
    families = {i.split("-")[0]: i.split("-")[0] for i in ids}
    for option, selectors in (("--select", chosen), ("--ignore", dropped)):
        for s in selectors:
            if s != "ALL" and not any(i.startswith(s) for i in ids):
                raise _Usage(
                    f"{option} {s}: no rule ID starts with it"
                    f"{_did_you_mean(s, [*families, *ids])} (clen rules lists them)"
                )
    if not chosen:
        chosen = ["ALL"]

    def specificity(selector: str, rule: str) -> int:
        if selector == "ALL":
            return 0
        return len(selector) if rule.startswith(selector) else -1

    kept = []
    for i in ids:
        on = max((specificity(s, i) for s in chosen), default=-1)
        off = max((specificity(s, i) for s in dropped), default=-1)
        if on >= 0 and on > off:
            kept.append(i)
    return kept


def _complete_entity(incomplete: str) -> list[str]:
    return [e.name for e in entities() if e.name.startswith(incomplete.lower())]


def _complete_format(incomplete: str) -> list[str]:
    return [f.name for f in formats() if f.name.startswith(incomplete.lower())]


def _complete_rules(incomplete: str) -> list[str]:
    done, _, last = incomplete.rpartition(",")
    head = done + "," if done else ""
    ids = [r.id for r in rules()]
    choices = sorted({i.split("-")[0] for i in ids} | set(ids))
    return [head + c for c in choices if c.startswith(last.upper())]


# --------------------------------------------------------------------------- progress


_SAMPLE = 1 << 20
"""Bytes of a text file's start sampled to estimate its rows."""


def _rows_in(path: Path, size: int) -> float | None:
    """An estimate of the rows of ``path``: a Parquet file's footer says; a text file's are
    its lines, estimated from its first megabyte; ``None`` for anything else."""
    if path.suffix.lower() in (".parquet", ".pq"):
        from clen_core.io.parquet import count_rows

        try:
            return count_rows(path)
        except (ClenError, OSError):
            return None
    with open(path, "rb") as f:
        head = f.read(_SAMPLE)
    lines = head.count(b"\n")
    if b"\0" in head or lines < 2:  # binary (a workbook), or too few lines to tell
        return None
    return lines if len(head) == size else size * lines / len(head)


class _Meter:
    """How much of some files has been read (in bytes, to show with their total).

    From the rows done (the library's progress) and an estimate of the rows the
    files hold, where each can be told; else from the position of the descriptors
    this process has open on them (Linux's /proc/self/fd: a format may read
    through a descriptor of its own, and read ahead of what it has checked). Only
    ever grows; the files are read in the order given."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = [os.path.realpath(f) for f in files]
        self.sizes = {f: os.path.getsize(f) for f in self.files}
        self.index = {f: i for i, f in enumerate(self.files)}
        self.total = sum(self.sizes.values())
        estimates = [_rows_in(Path(f), self.sizes[f]) for f in self.files]
        self.rows_total = None if None in estimates else sum(e or 0 for e in estimates)
        self.positions = os.path.isdir("/proc/self/fdinfo")
        self._rows = 0
        self._furthest = 0
        self._done = 0

    @classmethod
    def of(cls, files: Sequence[Path]) -> _Meter | None:
        """A meter for ``files``, or ``None`` when neither rows nor positions tell."""
        if not files:
            return None
        try:
            meter = cls(files)
        except OSError:
            return None
        return meter if meter.rows_total or meter.positions else None

    def rows(self, n: int) -> None:
        """Rows done so far (in every file)."""
        self._rows = n

    def __call__(self) -> int:
        """Bytes read so far (an estimate)."""
        if self.rows_total:
            done = int(self.total * min(self._rows / self.rows_total, 1.0))
        else:
            done = self._position()
        self._done = max(self._done, done)
        return self._done

    def _position(self) -> int:
        positions: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for fd in os.listdir("/proc/self/fd"):
                try:
                    target = os.readlink(f"/proc/self/fd/{fd}")
                    if target not in self.sizes:
                        continue
                    with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as info:
                        position = int(info.readline().split()[1])
                except (OSError, ValueError, IndexError):
                    continue  # closed meanwhile
                positions[target] = max(positions.get(target, 0), position)
        if positions:
            self._furthest = max(self._furthest, max(self.index[t] for t in positions))
        current = self.files[self._furthest]
        done = sum(self.sizes[f] for f in self.files[: self._furthest])
        return done + min(positions.get(current, 0), self.sizes[current])


class _Progress:
    """What a command tells of its progress; nothing when no bar is shown."""

    def __init__(self, bar: Any = None, task: Any = None, meter: _Meter | None = None) -> None:
        self._bar, self._task, self._meter = bar, task, meter

    def rows(self, n: int) -> None:
        """The library's progress callback: rows read so far."""
        if self._meter is not None:
            self._meter.rows(n)
        if self._bar is not None:
            self._bar.update(self._task, rows=n)

    def advance(self, n: float = 1) -> None:
        """``n`` more steps done."""
        if self._bar is not None:
            self._bar.advance(self._task, n)

    @property
    def callback(self) -> Callable[[int], None] | None:
        """The library's progress callback, or ``None`` when no bar is shown."""
        return self.rows if self._bar is not None else None


@contextlib.contextmanager
def _progress(
    quiet: bool, description: str, *, files: Sequence[Path] = (), steps: int | None = None
) -> Iterator[_Progress]:
    """A progress bar on the terminal (stderr), for reading ``files`` (by bytes, with the
    total and the time left) or for ``steps`` steps; nothing when quiet or not on a
    terminal."""
    if quiet or not _tty(sys.stderr):
        # Most runs have no terminal to show a bar on: rich.progress is not even imported.
        yield _Progress()
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    meter = _Meter.of(files)
    columns: list[ProgressColumn | str] = [SpinnerColumn(), TextColumn("{task.description}"),
                                           BarColumn()]  # fmt: skip
    total: float | None = None
    if meter is not None:
        total = meter.total
        columns += [DownloadColumn(), TextColumn("{task.fields[rows]:,} rows"),
                    TimeRemainingColumn(elapsed_when_finished=True)]  # fmt: skip
    elif steps is not None:
        total = steps
        columns += [TextColumn("{task.completed:,.0f}/{task.total:,.0f}"), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn()]
    with Progress(*columns, console=_real(err), transient=True) as bar:
        task = bar.add_task(description, total=total, rows=0)
        stop = threading.Event()

        def poll(meter: _Meter) -> None:
            while not stop.wait(0.2):
                bar.update(task, completed=meter())

        poller = None
        if meter is not None:
            poller = threading.Thread(target=poll, args=(meter,), name="clen-meter", daemon=True)
            poller.start()
        try:
            yield _Progress(bar, task, meter)
        finally:
            stop.set()
            if poller is not None:
                poller.join()


# --------------------------------------------------------------------------- the app


class SchemaKind(StrEnum):
    """Which derived schema ``clen schema`` prints."""

    ARROW = "arrow"
    JSON_SCHEMA = "json-schema"
    TABLE_SCHEMA = "table-schema"


def _version(value: bool) -> None:
    if value:
        _say(f"clen_core {clen_core.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> None:
    """Customs-laboratory data: entities, schemas, validation and conversion."""
    _state["debug"] = debug


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
EntityOption = Annotated[
    str | None,
    typer.Option(
        "--entity",
        "-e",
        metavar="ENTITY",
        help="Entity of the rows (name or class name, any case), when the file does not say "
        "(CSV, JSON Lines; Parquet metadata and JSON documents say it).",
        autocompletion=_complete_entity,
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        metavar="CHAR",
        help="CSV: the delimiter (',', ';', 'tab', '|'); detected when not given.",
    ),
]
DecimalOption = Annotated[
    str | None,
    typer.Option(
        "--decimal", metavar="CHAR", help="CSV: the decimal separator ('.' or ','); detected."
    ),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        metavar="NAME",
        help="CSV: the text encoding (utf-8, windows-1252, latin-1, ...); detected.",
    ),
]
RulesHelp = (
    "Rule IDs or prefixes, comma-separated or repeated (PT,REF-001; ALL): {what}. "
    "The most specific match decides, as in ruff."
)
SelectOption = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        metavar="RULES",
        help=RulesHelp.format(what="run only these rules"),
        autocompletion=_complete_rules,
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        metavar="RULES",
        help=RulesHelp.format(what="do not run these"),
        autocompletion=_complete_rules,
    ),
]


def _read_options(
    delimiter: str | None, decimal: str | None, encoding: str | None
) -> dict[str, str]:
    """The CSV read options given (``tab`` for a tab)."""
    if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    given = {"delimiter": delimiter, "decimal": decimal, "encoding": encoding}
    return {k: v for k, v in given.items() if v is not None}


def _with_options(fmt: Format, given: Mapping[str, str], where: Path) -> Format:
    """``fmt`` with the read options given, each of which it must take."""
    unknown = [k for k in given if k not in fmt.read_options]
    if unknown:
        options = " and ".join(f"--{k}" for k in unknown)
        verb = "applies" if len(unknown) == 1 else "apply"
        raise _Usage(f"{where}: {options} {verb} to CSV files; this is read as {fmt.name}")
    return fmt.with_options(**given)


def _settled(path: Path, fmt: Format, entity: str) -> Format:
    """``fmt`` with every read option settled for ``path`` (detected when not given)."""
    return read_format(path, entity=entity, format=fmt) if fmt.sniff is not None else fmt


_SAID = {",": "','-separated", ";": "';'-separated", "\t": "tab-separated", "|": "'|'-separated"}


def _read_as(fmt: Format) -> str:
    """How a file was read, for people: ``csv, ';'-separated, decimal comma, windows-1252``."""
    said = [fmt.name]
    for k, v in fmt.options.items():
        if k == "delimiter":
            said.append(_SAID.get(v, f"{v!r}-separated"))
        elif k == "decimal":
            said.append({".": "decimal point", ",": "decimal comma"}.get(v, f"decimal {v!r}"))
        elif k == "encoding":
            said.append(str(v))
        else:
            said.append(f"{k} {v}")
    return ", ".join(said)


# --------------------------------------------------------------------------- listings


@_command("entities")
def entities_cmd(as_json: JsonOption = False) -> None:
    """List the entities: name, class, number of fields, description."""
    infos = entities()
    if as_json:
        _print_json(
            [{"name": e.name, "class": e.cls.__name__, "fields": len(e.fields),
              "description": _plain(e.description)} for e in infos]
        )  # fmt: skip
    else:
        _table(
            None,
            ["name", "class", "fields", "description"],
            [[e.name, e.cls.__name__, str(len(e.fields)), _plain(e.description)] for e in infos],
        )


@_command("schema")
def schema_cmd(
    entity: Annotated[
        str,
        typer.Argument(
            metavar="ENTITY",
            help="Entity name or class name, e.g. activity or Activity.",
            autocompletion=_complete_entity,
        ),
    ],
    kind: Annotated[
        SchemaKind,
        typer.Option(
            "--as",
            metavar="[arrow|json-schema|table-schema]",
            help="Which schema: arrow, json-schema or table-schema.",
        ),
    ] = SchemaKind.JSON_SCHEMA,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for programs (the Arrow schema too).")
    ] = False,
) -> None:
    """Print an entity's schema, derived from its declaration."""
    with _errors():
        name = _entity(entity)
        if kind is SchemaKind.ARROW:
            schema = clen_core.arrow_schema(name)
            if as_json:
                _print_json(_arrow_json(schema))
            else:
                _say(_plain(schema.to_string(show_field_metadata=True, show_schema_metadata=True)))
            return
        made = clen_core.json_schema if kind is SchemaKind.JSON_SCHEMA else clen_core.table_schema
        document = _plain_descriptions(made(name))
        if as_json:
            _print_json(document)
        else:
            _say(json.dumps(document, indent=2, ensure_ascii=False))


def _arrow_json(schema: Any) -> dict[str, Any]:
    def text(meta: Mapping[bytes, bytes] | None) -> dict[str, str]:
        return {k.decode(): _plain(v.decode()) for k, v in (meta or {}).items()}

    return {
        "fields": [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable,
             "metadata": text(f.metadata)}
            for f in schema
        ],
        "metadata": text(schema.metadata),
    }  # fmt: skip


@_command("formats")
def formats_cmd(as_json: JsonOption = False) -> None:
    """List the file formats: name, extensions, read/write, plugin."""
    rows = [describe(f) | {"read_options": list(f.read_options)} for f in formats()]
    if as_json:
        _print_json(rows)
        return
    yes = {True: "yes", False: "-"}
    _table(
        None,
        ["name", "extensions", "read", "write", "dataset", "plugin", "description"],
        [[r["name"], " ".join(r["extensions"]), yes[r["read"]], yes[r["write"]],
          yes[r["dataset"]], str(r["plugin"]), _plain(r["description"])] for r in rows],
    )  # fmt: skip


@_command("plugins")
def plugins_cmd(as_json: JsonOption = False) -> None:
    """List the plugins: name, version, hooks, status, and why a plugin failed."""
    with _errors():
        infos = list_plugins()
    if as_json:
        _print_json([p.to_dict() for p in infos])
        return
    _table(
        None,
        ["name", "distribution", "version", "status", "hooks", "error"],
        [[p.name, p.distribution or "", p.version or "", p.status, ", ".join(p.hooks),
          _capped(p.error or "")] for p in infos],
    )  # fmt: skip


@_command("rules")
def rules_cmd(
    entity: Annotated[
        str | None,
        typer.Option(
            "--entity",
            "-e",
            metavar="ENTITY",
            help="Only the rules that report on this entity.",
            autocompletion=_complete_entity,
        ),
    ] = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the validation rules: ID, severity, entity, plugin, description.

    The plugin is the one that registered the rule ("built-in" for clen_core's own; null
    in --json). With --select and --ignore, the rules clen validate would run with them.
    """
    with _errors():
        selected = rules(_entity(entity) if entity else None)
        only = _selection(select, ignore)
    if only is not None:
        selected = tuple(r for r in selected if r.id in only)
    if as_json:
        _print_json(
            [{"id": r.id, "severity": r.severity.value, "entity": r.entity, "plugin": r.plugin,
              "origin": r.origin, "description": _plain(r.description)} for r in selected]
        )  # fmt: skip
        return
    _table(
        None,
        ["id", "severity", "entity", "plugin", "description"],
        [[r.id, r.severity.value, r.entity or "any", r.plugin or "built-in",
          _plain(r.description)] for r in selected],
    )  # fmt: skip


# --------------------------------------------------------------------------- validate


class _Input:
    """What ``clen validate`` reads: the format to give the library, the files in the order
    they are read (for the progress bar), and the format each is read as, options settled."""

    def __init__(self, fmt: str | Format | None, files: list[Path], read_as: dict[Path, Format]):
        self.format = fmt
        self.files = files
        self.read_as = read_as


def _validate_input(
    path: Path, entity: str | None, fmt: str | None, given: dict[str, str]
) -> _Input:
    if not path.exists():
        raise _Usage(f"{path}: no such file or folder")
    if path.is_dir():
        return _folder_input(path, entity, fmt, given)
    base = _format(fmt, "--format") if fmt else _format_of(path, "--format")
    chosen = _with_options(base, given, path)
    if base.read_dataset is not None:  # a document (a dataset, a workbook): it says its entities
        return _Input(chosen, [path], {path: chosen})
    name = entity or _entity_from_metadata(path, base)
    if name is None:
        raise _Usage(_no_entity(path, base))
    settled = _settled(path, chosen, name)
    return _Input(settled, [path], {path: settled})


def _no_entity(path: Path, fmt: Format) -> str:
    """The message for a file of one entity that does not say which."""
    guess = _named_entity(path)
    hint = f" (--entity {guess}, as its name says?)" if guess else ""
    if fmt.read_dataset is not None:  # convert: a document may hold several entities
        return f"{path}: {fmt.name} files may hold several entities: give --entity{hint}"
    return f"{path}: {fmt.name} files do not say which entity their rows are: give --entity{hint}"


def _folder_input(path: Path, entity: str | None, fmt: str | None, given: dict[str, str]) -> _Input:
    visible = sorted(p for p in path.iterdir() if not p.name.startswith((".", "_")))
    if not visible:
        raise _Usage(f"{path}: an empty folder, nothing to validate")
    if _is_entity_folder(path):
        files = [p for p in visible if entity is None or _named_entity(p) == entity]
        if not files:
            held = ", ".join(str(_named_entity(p)) for p in visible)
            raise _Usage(f"{path}: no {entity} file in the folder (it holds {held})")
        each = {p: _format(fmt, "--format") if fmt else _format_of(p, "--format") for p in files}
        chosen: str | Format | None = fmt
        if given:
            kinds = sorted({f.name for f in each.values()})
            if len(kinds) > 1:
                raise _Usage(f"{path}: holds {' and '.join(kinds)} files; give --format with "
                             "--delimiter, --decimal or --encoding")  # fmt: skip
            chosen = _with_options(next(iter(each.values())), given, path)
            each = dict.fromkeys(files, chosen)
        read_as = {}
        for p, f in each.items():
            name = _named_entity(p)
            assert name is not None
            read_as[p] = _settled(p, f, name)
        return _Input(chosen, files, read_as)
    dirs = [d for d in path.rglob("*") if d.is_dir()]
    parts = sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".pq"))
    if parts and all("=" in d.name for d in dirs):  # files, or key=value folders of files
        if given:
            raise _Usage(f"{path}: --delimiter, --decimal and --encoding apply to CSV files; "
                         "this is a partitioned Parquet dataset")  # fmt: skip
        return _Input(fmt, parts, {})
    inner = [d.name for d in visible if d.is_dir() and _is_entity_folder(d)]
    hint = f"; validate one of its folders of entity files: {', '.join(inner)}" if inner else ""
    raise _Usage(
        f"{path}: a folder of neither entity files (activity.csv, ...) "
        f"nor a partitioned Parquet dataset{hint}"
    )


@_command("validate")
def validate_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="A file; a folder of entity files (activity.csv, ...); a dataset document "
            "(dataset.json) or workbook (.xlsx); a hive-partitioned Parquet dataset folder.",
        ),
    ],
    entity: EntityOption = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Format of the file (or of every file of the folder), if the extension does "
            "not say.",
            autocompletion=_complete_format,
        ),
    ] = None,
    delimiter: DelimiterOption = None,
    decimal: DecimalOption = None,
    encoding: EncodingOption = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    report_path: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE", help="Write the report as JSON to this file."),
    ] = None,
    max_findings: Annotated[
        int | None,
        typer.Option(
            "--max-findings",
            metavar="N",
            min=0,
            help="Findings kept for --report and --json (counts go on past it). Default: "
            "1000, unless CLEN_MAX_FINDINGS says otherwise.",
            show_default=False,
        ),
    ] = None,
    show: Annotated[
        int,
        typer.Option(
            "--show", metavar="N", min=0, help="Findings listed on screen, after the counts."
        ),
    ] = 20,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Validate a file, a folder or a dataset: unfit rows, then every rule.

    Every entity found is read, then the rules run across all of them
    (references between entities, declared vs found CN codes). Each finding
    names its file, row and field. READ-001, a row that does not fit its
    entity, is reported whatever --select says. Exit 1 when there is an
    error-severity finding (a rejected row is one).
    """
    if _tty(sys.stdout):  # off a terminal the report is plain text: no rich at all
        _import_rich_meanwhile()  # for the report's tables, while the files are read
    with _errors():
        name = _entity(entity) if entity else None
        only = _selection(select, ignore)
        given = _read_options(delimiter, decimal, encoding)
        source = _validate_input(path, name, fmt, given)
        with _progress(quiet, f"validating {path.name or path}", files=source.files) as progress:
            done = validate_path(
                path,
                entity=name,
                format=source.format,
                only=only,
                max_findings=max_findings,
                report_path=report_path,
                progress=progress.callback,
            )
    per_entity = _per_entity(done, source)
    if as_json:
        _print_json({"path": str(path), "kind": done.kind, "entities": per_entity,
                     **done.report.to_dict()})  # fmt: skip
    else:
        _print_validation(done, source, per_entity, show)
    raise typer.Exit(EXIT_OK if done.ok else EXIT_FINDINGS)


def _per_entity(done: PathValidation, source: _Input) -> dict[str, dict[str, Any]]:
    """Each entity read: its file, its format (and the read options), its row counts."""
    out = {}
    for name in done.read:
        file = done.files.get(name, done.path)
        fmt = source.read_as.get(file)
        if fmt is None:
            fmt = get_format("parquet") if done.kind == "partitioned" else _format_of(file, "-")
        out[name] = {"file": str(file), "format": fmt.name, "options": dict(fmt.options),
                     "read": done.read[name], "accepted": done.accepted[name],
                     "rejected": done.rejected[name]}  # fmt: skip
    return out


def _shown_file(file: str | None, root: Path) -> str:
    """A finding's file as shown: relative to the folder validated."""
    if file is None:
        return ""
    if root.is_dir():
        with contextlib.suppress(ValueError):
            relative = Path(file).relative_to(root)
            return str(root if relative == Path() else relative)
    return file


def _print_validation(
    done: PathValidation, source: _Input, per_entity: dict[str, dict[str, Any]], show: int
) -> None:
    report, root = done.report, done.path
    # How each file was read, when its format has options (a CSV's dialect).
    said = {f: _read_as(fmt) for f, fmt in source.read_as.items() if fmt.options}
    if len(said) > 1 and len(set(said.values())) == 1:
        _say(f"{root}: {len(said)} files read as {next(iter(said.values()))}")
    else:
        for f, text in said.items():
            _say(f"{f}: read as {text}")
    n = len(done.read)
    held = f"{n} {'entity' if n == 1 else 'entities'}"
    document = next(iter(source.read_as.values()), None)
    what = {
        "file": next(iter(done.read), ""),
        "folder": f"folder, {held}",
        "document": f"{'workbook' if document and document.name == 'xlsx' else 'dataset document'}"
        f", {held}",
        "partitioned": f"partitioned dataset of {next(iter(done.read), '')}, "
        f"{len(source.files)} files",
    }[done.kind]
    sev = report.by_severity
    _say(
        f"{root} ({what}): {sum(done.read.values()):,} row(s) read, "
        f"{sum(done.rejected.values()):,} rejected; {sev[Severity.ERROR]:,} error(s), "
        f"{sev[Severity.WARNING]:,} warning(s), {sev[Severity.INFO]:,} info"
    )
    if n > 1:
        folder = done.kind == "folder"
        _table(
            "rows by entity",
            ["entity", *(["file"] if folder else []), "read", "rejected"],
            [[e, *([_shown_file(i["file"], root)] if folder else []), f"{i['read']:,}",
              f"{i['rejected']:,}"] for e, i in per_entity.items()],
        )  # fmt: skip
    if not report.total:
        return
    # Counts by rule first: on a big file they say more than any list of findings.
    counts = []
    for rule, count in sorted(report.by_rule.items()):
        if count:
            severity, description = _rule_info(rule, report)
            counts.append([rule, severity, f"{count:,}", description])
    _table("findings by rule", ["rule", "severity", "count", "description"], counts)
    shown = report.findings[:show]
    if not shown:
        return
    files = done.kind in ("folder", "partitioned")
    several = n > 1
    _table(
        _findings_title(report, len(shown)),
        [*(["file"] if files else []), *(["entity"] if several else []), "rule", "severity",
         "row", "key", "field", "value", "message"],
        [[*([_shown_file(f.file, root)] if files else []), *([f.entity] if several else []),
          *_finding_cells(f)] for f in shown],
    )  # fmt: skip


def _finding_cells(f: Finding) -> list[str]:
    value = "" if f.value is None else str(f.value)
    if len(value) > 40:
        value = value[:39] + "…"
    return [f.rule, f.severity.value, "" if f.row is None else str(f.row), f.key or "",
            f.field or "", value, f.message]  # fmt: skip


def _findings_title(report: Report, shown: int) -> str:
    """What the list of findings holds, and where the others are."""
    kept = len(report.findings)
    if shown == report.total:
        return f"the {shown:,} finding(s)"
    title = f"first {shown:,} of {report.total:,} finding(s)"
    if report.truncated:
        return title + (f"; {kept:,} kept in --report and --json (--max-findings keeps more)")
    return title + "; all of them in --report and --json"


def _rule_info(rule_id: str, report: Report) -> tuple[str, str]:
    """Severity and description of a rule of the report (a plugin's rule may be gone)."""
    if rule_id == READ_RULE:
        return Severity.ERROR.value, "a row that does not fit the entity: rejected when read"
    try:
        r = get_rule(rule_id)
    except LookupError:
        seen = next((f.severity.value for f in report.findings if f.rule == rule_id), "")
        return seen, ""
    return r.severity.value, _plain(r.description)


# --------------------------------------------------------------------------- convert


_REJECTS_SHOWN = 10


def _print_rejects(rejects: Sequence[Any], rejected: int, hint: str) -> None:
    for r in rejects[:_REJECTS_SHOWN]:
        _warn(f"  {_cell(_capped(str(r)))}")
    if rejected > min(len(rejects), _REJECTS_SHOWN):
        more = max(len(rejects), rejected) - min(len(rejects), _REJECTS_SHOWN)
        _warn(f"  ... and {more:,} more{hint}")


@_command("convert")
def convert_cmd(
    src: Annotated[Path, typer.Argument(metavar="SRC", help="File to read (one entity).")],
    dst: Annotated[Path, typer.Argument(metavar="DST", help="File to write.")],
    entity: EntityOption = None,
    from_fmt: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="FORMAT", help="Format of SRC.", autocompletion=_complete_format
        ),
    ] = None,
    to_fmt: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="FORMAT", help="Format of DST.", autocompletion=_complete_format
        ),
    ] = None,
    delimiter: DelimiterOption = None,
    decimal: DecimalOption = None,
    encoding: EncodingOption = None,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", metavar="FILE", help="Write rejected rows (JSON Lines) here."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Any rejected row: exit 1 and leave DST untouched."),
    ] = False,
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by",
            metavar="KEYS",
            help="Write DST as a hive-partitioned Parquet dataset folder, by these keys: "
            "fields of the entity, or year/month of its main date (e.g. year,country).",
        ),
    ] = None,
    max_rows_per_file: Annotated[
        int | None,
        typer.Option(
            "--max-rows-per-file",
            metavar="N",
            min=1,
            help="Dataset folder: at most this many rows a file.",
        ),
    ] = None,
    target_file_size: Annotated[
        str | None,
        typer.Option(
            "--target-file-size",
            metavar="SIZE",
            help="Dataset folder: start a folder's next file when one reaches about this "
            "size (e.g. 128MB, 1GiB; default 128MiB).",
        ),
    ] = None,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add the rows to the dataset folder DST (same entity, keys and schema), "
            "atomically. Without it a non-empty DST folder is refused.",
        ),
    ] = False,
    batch_id: Annotated[
        str | None,
        typer.Option(
            "--batch-id",
            metavar="ID",
            help="Dataset folder: record the rows as this batch (default: a hash of the "
            "rows); a batch already there is refused, see --if-batch-exists.",
        ),
    ] = None,
    if_batch_exists: Annotated[
        str,
        typer.Option(
            "--if-batch-exists",
            metavar="error|skip|append",
            help="Dataset folder, a batch appended before: refuse it (exit 2), skip it "
            "(nothing written, exit 0) or append it again.",
        ),
    ] = "error",
    on_duplicate_key: Annotated[
        str | None,
        typer.Option(
            "--on-duplicate-key",
            metavar="error|skip|keep",
            help="Dataset folder, rows whose key is already there (or repeats): refuse the "
            "write (exit 2; the default with --append), skip them (counted), or keep them "
            "(the default for a new dataset).",
        ),
    ] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Convert a file to another format; rows that do not fit go to the rejects.

    The rows read always equal the rows written, skipped (a key or batch already
    in the dataset, see --on-duplicate-key and --if-batch-exists) and rejected. With
    --partition-by, --max-rows-per-file, --target-file-size or --append, DST is a
    Parquet dataset folder (see docs/pipelines.md), written atomically.
    """
    sized = max_rows_per_file is not None or target_file_size is not None
    dataset = partition_by is not None or sized or append
    with _errors(format="--from"):
        if not src.exists():
            raise _Usage(f"{src}: no such file")
        if src.is_dir():
            raise _Usage(f"{src}: a folder; clen convert reads one file of one entity "
                         "(clen validate reads a folder)")  # fmt: skip
        base = _format(from_fmt, "--from") if from_fmt else _format_of(src, "--from")
        chosen = _with_options(base, _read_options(delimiter, decimal, encoding), src)
        name = _entity(entity) if entity else _entity_from_metadata(src, base)
        if name is None:
            raise _Usage(_no_entity(src, base))
        source_format = _settled(src, chosen, name)
        target: Format | None = None
        if to_fmt is not None:
            target = _format(to_fmt, "--to")
        elif not dataset:
            target = _format_of(dst, "--to", head=False)
        if target is not None and not dataset and target.write is None:
            writable = ", ".join(f.name for f in formats() if f.write is not None)
            raise _Usage(f"format {target.name!r} cannot write (--to: {writable})")
        try:
            with _progress(quiet, f"{src.name} → {dst.name}", files=[src]) as progress:
                done = convert(
                    src,
                    dst,
                    entity=name,
                    from_format=source_format,
                    to_format=target,
                    rejects=rejects,
                    strict=strict,
                    partition_by=partition_by,
                    max_rows_per_file=max_rows_per_file,
                    target_file_size=(
                        None
                        if target_file_size is None
                        else parse_size(target_file_size, "--target-file-size")
                    ),
                    append=append,
                    batch_id=batch_id,
                    on_duplicate_key=on_duplicate_key,  # type: ignore[arg-type]
                    if_batch_exists=if_batch_exists,  # type: ignore[arg-type]
                    progress=progress.callback,
                )
        except RejectedRowsError as exc:
            if not strict:
                raise
            # --strict and a row rejected: the whole file was read, DST left untouched.
            if as_json:
                _print_json({"source": str(src), "target": str(dst), "entity": name,
                             "read": exc.read, "written": 0, "rejected": exc.rejected,
                             "target_written": False,
                             "rejects": [r.to_dict() for r in exc.rejects]})  # fmt: skip
            _warn(
                f"{src}: {exc.rejected:,} of {exc.read:,} row(s) rejected; "
                f"--strict: {dst} not written"
            )
            _print_rejects(exc.rejects, exc.rejected, "" if rejects else " (--rejects FILE "
                           "writes them all)")  # fmt: skip
            raise typer.Exit(EXIT_FINDINGS) from None
    if as_json:
        _print_json(
            {"source": str(done.source), "target": str(done.target), "entity": done.entity,
             "source_format": done.source_format, "options": dict(source_format.options),
             "target_format": done.target_format, "read": done.read, "written": done.written,
             "rejected": done.rejected, "skipped": done.skipped, "target_written": True,
             "batch_id": done.batch_id, "already_appended": done.already_appended,
             "rejects_path": None if done.rejects_path is None else str(done.rejects_path),
             "paths": [str(p) for p in done.paths], "dataset": done.dataset,
             "rejects": [r.to_dict() for r in done.rejects]}
        )  # fmt: skip
        raise typer.Exit(EXIT_OK)
    if done.already_appended is not None:
        _say(f"{dst}: batch {done.batch_id} already appended on {done.already_appended}; "
             "nothing written (--if-batch-exists skip)")  # fmt: skip
        if not done.read:
            raise typer.Exit(EXIT_OK)
    if source_format.options:
        _say(f"{src}: read as {_read_as(source_format)}")
    skipped = f", {done.skipped:,} skipped" if done.skipped else ""
    _say(
        f"{src} → {dst}: {done.read:,} read, {done.written:,} written{skipped}, "
        f"{done.rejected:,} rejected" + (f" (see {rejects})" if rejects and done.rejected else "")
    )
    if done.rejected and not rejects:
        _print_rejects(done.rejects, done.rejected, " (--rejects FILE writes them all)")
    raise typer.Exit(EXIT_OK)


# --------------------------------------------------------------------------- migrate


@_command("migrate")
def migrate_cmd(
    dataset: Annotated[
        Path,
        typer.Argument(
            metavar="DATASET",
            help="A partitioned dataset folder, or a Parquet file, of one entity.",
        ),
    ],
    entity: EntityOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rewrite a Parquet dataset to the current schema of its entity, atomically.

    Files written before an optional field was added get its column (null);
    files of an older schema version are rewritten when their data fits the
    entity now; the metadata becomes the current one and the batch records
    stay. A dataset already current is left alone (exit 0). What cannot be
    migrated (a column that is no field, a required field missing, a type that
    does not convert without loss, a value the field refuses) is an error
    naming the file (exit 2), and nothing changes (see docs/pipelines.md).
    """
    with _errors():
        done = migrate_dataset(dataset, entity=_entity(entity) if entity else None)
    if as_json:
        _print_json({"path": str(done.path), "entity": done.entity,
                     "schema_version": done.schema_version, "files": done.files,
                     "rewritten": [str(p) for p in done.rewritten], "rows": done.rows,
                     "current": done.current})  # fmt: skip
    elif done.current:
        _say(f"{dataset}: already current ({done.entity}, schema version "
             f"{done.schema_version}, {done.files:,} file(s)); nothing rewritten")  # fmt: skip
    else:
        _say(f"{dataset}: {len(done.rewritten):,} of {done.files:,} file(s) rewritten "
             f"({done.rows:,} rows) to {done.entity} schema version "
             f"{done.schema_version}")  # fmt: skip
    raise typer.Exit(EXIT_OK)


# --------------------------------------------------------------------------- demo


@_command("demo")
def demo_cmd(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="Where to write the demo files.")
    ] = Path("clen-demo"),
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the embedded reference dataset in every format, validate it, read it all back.

    A folder per format (one file per entity), and the whole dataset in one file
    for each format that holds several entities (dataset.json, dataset.xlsx):
    each can be given to clen validate.
    """
    from clen_core.data import reference_dataset

    with _errors():
        dataset = reference_dataset()
        report = validate(dataset)
        writable = [f for f in formats() if f.write is not None]
        documents = [f for f in writable if f.write_dataset is not None]
        files: list[tuple[str, Path]] = []
        with _progress(quiet, "demo", steps=len(writable) + len(documents)) as progress:
            for fmt in writable:
                result = write_dataset(dataset, folder / fmt.name, format=fmt)
                files += [(fmt.name, p) for p in result.paths]
                if fmt.read is not None and read_dataset(folder / fmt.name) != dataset:
                    _fail(f"{folder / fmt.name}: read back differs from the original")
                progress.advance()
            for fmt in documents:
                single = folder / f"dataset{fmt.extensions[0]}"
                write_dataset(dataset, single, format=fmt)
                files.append((fmt.name, single))
                if read_dataset(single) != dataset:
                    _fail(f"{single}: read back differs from the original")
                progress.advance()
    if as_json:
        _print_json(
            {"folder": str(folder), "counts": dataset.counts(), "report": report.to_dict(),
             "files": [{"format": n, "path": str(p), "bytes": p.stat().st_size}
                       for n, p in files]}
        )  # fmt: skip
    else:
        _demo_summary(dataset.counts(), report, files, folder)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDINGS)


def _demo_summary(
    counts: dict[str, int], report: Report, files: list[tuple[str, Path]], folder: Path
) -> None:
    _table(
        "reference dataset",
        ["entity", "rows"],
        [[k, str(v)] for k, v in counts.items()] + [["total", str(sum(counts.values()))]],
    )
    sev = report.by_severity
    _say(
        f"validation: {sev[Severity.ERROR]} error(s), {sev[Severity.WARNING]} warning(s), "
        f"{sev[Severity.INFO]} info"
    )
    for f in report.findings:
        if f.severity is not Severity.INFO:
            _say(f"  {f.rule} {f.severity.value} {f.entity} {f.key}: {f.message}")
    by_format: dict[str, list[Path]] = {}
    for name, p in files:
        by_format.setdefault(name, []).append(p)
    _table(
        f"files written in {folder} (each read back and equal to the original)",
        ["format", "files", "bytes"],
        [[name, str(len(ps)), f"{sum(p.stat().st_size for p in ps):,}"]
         for name, ps in by_format.items()],
    )  # fmt: skip


# --------------------------------------------------------------------------- generate


@_command("generate")
def generate_cmd(
    entity: Annotated[
        str,
        typer.Argument(
            metavar="ENTITY", help="Entity to generate.", autocompletion=_complete_entity
        ),
    ],
    n: Annotated[int, typer.Argument(metavar="N", min=0, help="Number of rows.")],
    out_path: Annotated[Path, typer.Argument(metavar="OUT", help="File to write.")],
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Seed: same seed, same rows.")
    ] = 0,
    error_rate: Annotated[
        float,
        typer.Option(
            "--error-rate",
            metavar="RATE",
            min=0.0,
            max=1.0,
            help="Fraction of rows made invalid.",
        ),
    ] = 0.0,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Format, if the extension does not say.",
            autocompletion=_complete_format,
        ),
    ] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write N rows of deterministic synthetic data (streamed, any size)."""
    from clen_core.synth import generate_batches

    with _errors():
        name = _entity(entity)
        target = _format(fmt, "--format") if fmt else _format_of(out_path, "--format", head=False)
        if target.write is None:
            raise _Usage(f"format {target.name!r} cannot write")
        info = get_entity(name)
        with _progress(quiet, f"generating {out_path.name}", steps=n) as progress:

            def batches() -> Iterator[Any]:
                for b in generate_batches(name, n, seed=seed, error_rate=error_rate):
                    progress.advance(b.num_rows)
                    yield b

            with atomic_file(out_path) as sink:
                target.write(sink, info, batches(), str(out_path))
    if as_json:
        _print_json({"path": str(out_path), "entity": name, "rows": n, "seed": seed,
                     "error_rate": error_rate, "format": target.name})  # fmt: skip
        return
    _say(f"{out_path}: {n:,} {name} row(s), seed {seed}, error rate {error_rate}")


# --------------------------------------------------------------------------- pt-report


class PTReportFormat(StrEnum):
    """What ``clen pt-report`` writes."""

    HTML = "html"
    JSON = "json"


_REPORT_SUFFIXES = {".json": PTReportFormat.JSON, ".html": PTReportFormat.HTML,
                    ".htm": PTReportFormat.HTML}  # fmt: skip


def _report_format(given: PTReportFormat | None, out_path: Path) -> PTReportFormat:
    """The report's format: given, else the one --out's extension says (HTML otherwise)."""
    said = _REPORT_SUFFIXES.get(out_path.suffix.lower())
    if given is None:
        return said or PTReportFormat.HTML
    if said is not None and said is not given:
        raise _Usage(
            f"--out {out_path} ends in {out_path.suffix} but --format is {given.value}: "
            f"give --format {said.value}, or an --out file ending in .{given.value}"
        )
    return given


@_command("pt-report")
def pt_report_cmd(
    results: Annotated[
        Path, typer.Argument(metavar="RESULTS", help="File of pt_result rows (any format).")
    ],
    study: Annotated[
        str,
        typer.Option(
            "--study",
            metavar="ID",
            help="A study ID (that study) or a round ID (every study of the round).",
        ),
    ],
    out_path: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="FILE", help="File to write the report to."),
    ],
    fmt: Annotated[
        PTReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="[html|json]",
            help="html (a page) or json (programs); default: as --out's extension says, else html.",
            show_default=False,
        ),
    ] = None,
    studies: Annotated[
        Path | None,
        typer.Option(
            "--studies",
            metavar="FILE",
            help="File of pt_study rows; without it, the embedded reference dataset's studies.",
        ),
    ] = None,
    rounds: Annotated[
        Path | None,
        typer.Option(
            "--rounds",
            metavar="FILE",
            help="File of pt_round rows (the report's header); without it, the embedded "
            "reference dataset's rounds.",
        ),
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal-labs", help="Show the laboratories' IDs instead of pseudonymised codes."
        ),
    ] = False,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            metavar="FILE",
            help="Also write the key laboratory ID → code (CSV, or JSON for .json): for the "
            "provider only.",
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file",
            metavar="FILE",
            help="File whose content keys the codes (HMAC-SHA-256): without it, whoever knows "
            "the round and laboratory IDs can recompute them.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate a proficiency test (ISO 13528) and write the provider's report.

    One self-contained HTML page (per study: how x_pt and σ_pt were set,
    counts, histogram and kernel density, x ± U, sorted z or z′ bars, the table;
    Youden plots, qualitative agreement, combined scores) or JSON. Laboratories
    are pseudonymised unless --reveal-labs. Exit 2 for an unknown study or
    round, a bad file, or a round that cannot be scored (e.g. degenerate
    results and no σ_pt given); the output files are then left as they were.
    """
    from clen_core.data import reference_dataset
    from clen_core.proficiency import PTEvaluation
    from clen_core.proficiency.report import report_from_files

    with _errors():
        chosen = _report_format(fmt, out_path)
        secret = None if secret_file is None else secret_file.read_bytes().strip()
        if secret is not None and not secret:
            raise _Usage(f"{secret_file}: the secret file is empty")
        embedded = reference_dataset() if studies is None or rounds is None else None
        evaluation = report_from_files(
            results,
            study,
            out_path,
            format=chosen.value,
            studies=studies if studies is not None else reference_dataset(),
            rounds=rounds if rounds is not None else embedded,
            reveal=reveal,
            key=key,
            secret=secret,
        )
    lines: list[str] = []
    brief: list[dict[str, Any]] = []
    for e in evaluation.studies:
        if isinstance(e, PTEvaluation):
            sm = e.summary
            counts = ", ".join(f"{n} {c.value}" for c, n in sm.counts.items())
            lines.append(
                f"  {sm.study_id}: {sm.laboratories} laboratories: {counts}; "
                f"{sm.not_classified} not classified; {sm.action_signals} action signal(s)"
            )
            brief.append(
                {"study_id": sm.study_id, "kind": "quantitative",
                 "laboratories": sm.laboratories, "p": sm.p,
                 "classified_by": sm.classified_by.value,
                 "counts": {c.value: n for c, n in sm.counts.items()},
                 "not_classified": sm.not_classified, "censored": sm.censored,
                 "not_returned": sm.not_returned, "action_signals": sm.action_signals}
            )  # fmt: skip
        else:
            o = e.outcome
            right = getattr(o, "n_correct", None)
            if right is None:
                right = getattr(o, "n_agreeing", None)
            lines.append(
                f"  {e.study.study_id}: {e.study.kind.value}, {o.p} result(s), "
                f"{'—' if right is None else right} correct or agreeing, "
                f"{len(e.not_returned)} not returned"
            )
            brief.append(
                {"study_id": e.study.study_id, "kind": e.study.kind.value, "p": o.p,
                 "correct": right, "not_returned": len(e.not_returned)}
            )  # fmt: skip
    rid = evaluation.pt_round.round_id if evaluation.pt_round is not None else None
    if as_json:
        _print_json(
            {"out": str(out_path), "format": chosen.value, "round_id": rid,
             "pseudonymised": not reveal, "key": None if key is None else str(key),
             "studies": brief}
        )  # fmt: skip
        return
    head = f"{out_path}: {chosen.value}, " + (f"round {rid}, " if rid else "")
    head += f"{len(brief)} study(ies)"
    if key is not None:
        head += f"; key in {key}"
    _say("\n".join([head, *lines]))


# --------------------------------------------------------------------------- entry point


def _stdout_gone() -> bool:
    """Whether the reader of stdout has gone (``| head``): flushing it fails."""
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # typer's sign that it did
        return True
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


class _Interrupted(BaseException):
    """Ctrl-C, raised by the command's own handler of SIGINT instead of KeyboardInterrupt,
    which click would turn into "Aborted!" and exit code 1. Not an Exception: every
    ``except Exception`` lets it by, every clean-up (``finally``, atomic files, the
    stages' threads) runs as it passes."""


def _interrupted(signum: int, frame: object) -> None:
    raise _Interrupted


def _leave_interrupted() -> NoReturn:
    """Exit 130 (128 + SIGINT, as shells do), quietly: nothing on stderr, and a second
    Ctrl-C while the process ends is ignored."""
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(EXIT_INTERRUPTED)


def main(prog_name: str = "clen") -> NoReturn:
    """The console-script entry point: run ``clen``, exit with its code.

    ``prog_name``: the name the usage lines give the command (``python -m clen_core``
    runs this with its own). Process tuning (threads, allocator, pandas and numpy kept
    out) is the launcher's, :mod:`clen_core_launch`, which calls this. Ctrl-C at any
    moment ends the command with exit code 130 and nothing printed, once every
    temporary file is removed.
    """
    code: Any = EXIT_OK
    cut = interrupted = False
    try:
        previous = signal.signal(signal.SIGINT, _interrupted)
    except ValueError:  # not the main thread: Ctrl-C is not ours to handle
        previous = None
    try:
        app(prog_name=prog_name)
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:
        cut = True
    except (_Interrupted, KeyboardInterrupt):
        interrupted = True
        _leave_interrupted()
    except (ClenError, OSError) as exc:  # outside a command's own handling: still one line
        _warn(f"error: {_cell(_capped(_known_error(exc)))}")
        code = EXIT_USAGE
    except Exception as exc:  # a bug, not bad data: one line, or its traceback with --debug
        _internal_error(exc)
    finally:
        if previous is not None and not interrupted:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, previous)
    if cut or _stdout_gone():
        # Output piped into a command that stopped reading: leave quietly, as cat does.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_OK)
    raise SystemExit(code)
