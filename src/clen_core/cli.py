"""The ``clen`` command line: listings, schemas, validate, convert, demo and generate.

Exit codes: 0 ok; 1 the data has error-severity findings (or rejects under
``--strict``); 2 usage error, missing file, unreadable format. Errors are one
line naming file, row and field (``--debug`` shows the traceback). Any other
exception is a bug in clen_core or a plugin: it is one line too, saying so
and asking for a report (exit code 2; ``--debug`` shows its traceback).
Progress bars appear on a terminal only, never when output is piped or with
``--quiet``.
"""

# This module only parses arguments, calls the library (clen_core.io.commands.convert,
# validate_file, ...) and renders what it returns. The process's tuning is the launcher's
# (clen_core_launch), which this module never imports.

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Protocol, cast

import typer

import clen_core
from clen_core.errors import ClenError, RejectedRowsError
from clen_core.io import atomic_file, convert, read_dataset, validate_file, write_dataset
from clen_core.io.formats import describe, format_for_path, formats, get_format
from clen_core.model.entity import entities, get_entity
from clen_core.plugins import list_plugins
from clen_core.rules import Report, Severity, get_rule, rules, validate
from clen_core.rules.report import READ_RULE

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["app", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="clen",
    help="Customs-laboratory data: entities, schemas, validation and conversion (clen_core).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _LazyConsole:
    """A rich ``Console`` made at its first use.

    Importing rich takes 25-30 ms, a twentieth of a command's start; a command
    that fails early, or reads a big file first, need not wait for it there.
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
    """Start importing rich in a background thread, for a command about to read a file.

    The command prints through rich when it is done; the import (25-30 ms of
    Python) then runs while the reading and checking threads work in Arrow,
    which mostly runs without the GIL, instead of after them.
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


class SchemaKind(StrEnum):
    """Which derived schema ``clen schema`` prints."""

    ARROW = "arrow"
    JSON_SCHEMA = "json-schema"
    TABLE_SCHEMA = "table-schema"


def _version(value: bool) -> None:
    if value:
        out.print(f"clen_core {clen_core.__version__}")
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


# --------------------------------------------------------------------------- helpers


def _fail(message: str) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(EXIT_USAGE)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Turn the library's errors (:class:`ClenError`) and the system's (:class:`OSError`:
    a missing file, a full disk) into one line and exit code 2.

    Any other exception is a bug and goes on to :func:`main`, which reports it as one.
    """
    try:
        yield
    except BrokenPipeError:
        raise  # the reader went away (| head): not an error of ours
    except (ClenError, OSError) as exc:
        _fail(_known_error(exc))


def _known_error(exc: ClenError | OSError) -> str:
    """The line that tells an error of the data, the arguments or the system (with
    ``--debug``, its traceback is printed first)."""
    if _state["debug"]:
        traceback.print_exception(exc)
    return str(exc).splitlines()[0] if isinstance(exc, OSError) else str(exc)


def _internal_error(exc: BaseException) -> NoReturn:
    """Report a bug: its traceback with ``--debug``, else one line saying how to see it."""
    if _state["debug"]:
        traceback.print_exception(exc)
    else:
        text = str(exc).strip().splitlines()
        what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
        err.print(
            f"error: internal error ({what}); "
            "run with --debug for the traceback, and please report it",
            markup=False,
        )
    raise SystemExit(EXIT_USAGE)


class _Bar(Protocol):
    """What the commands use of a progress bar: rich's ``Progress``, or :class:`_NoBar`."""

    def add_task(self, description: str, *, total: float | None = ...) -> Any: ...
    def update(self, task: Any, /, *, completed: float | None = ...) -> None: ...
    def advance(self, task: Any, /, advance: float = ...) -> None: ...


class _NoBar:
    """The progress bar of a run that shows none (quiet, or no terminal): does nothing."""

    def add_task(self, description: str, *, total: float | None = None) -> int:
        return 0

    def update(self, task: Any, /, *, completed: float | None = None) -> None:
        return None

    def advance(self, task: Any, /, advance: float = 1) -> None:
        return None


@contextlib.contextmanager
def _progress(quiet: bool, description: str) -> Iterator[_Bar]:
    if quiet or not err.is_terminal:
        # Most runs have no terminal to show a bar on: rich.progress is not even imported.
        yield _NoBar()
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=_real(err),
        transient=True,
    ) as bar:
        yield bar


def _rows_done(progress: _Bar, description: str) -> Callable[[int], None] | None:
    """The library's progress callback (rows read so far) for a task of ``progress``."""
    if isinstance(progress, _NoBar):
        return None
    task = progress.add_task(description, total=None)
    return lambda rows: progress.update(task, completed=rows)


def _print_json(data: Any) -> None:
    out.print_json(data=data) if out.is_terminal else print(json.dumps(data, ensure_ascii=False))


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*r)
    out.print(table)


def _entity_name(entity: str) -> str:
    return get_entity(entity).name


# --------------------------------------------------------------------------- listings


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@app.command("entities")
def entities_cmd(as_json: JsonOption = False) -> None:
    """List the entities: name, class, number of fields, description."""
    infos = entities()
    if as_json:
        _print_json(
            [{"name": e.name, "class": e.cls.__name__, "fields": len(e.fields),
              "description": e.description} for e in infos]
        )  # fmt: skip
    else:
        _table(
            "entities",
            ["name", "class", "fields", "description"],
            [[e.name, e.cls.__name__, str(len(e.fields)), e.description] for e in infos],
        )


@app.command("schema")
def schema_cmd(
    entity: Annotated[str, typer.Argument(metavar="ENTITY", help="Entity name, e.g. activity.")],
    kind: Annotated[
        SchemaKind, typer.Option("--as", help="Which schema: arrow, json-schema or table-schema.")
    ] = SchemaKind.JSON_SCHEMA,
) -> None:
    """Print an entity's schema, derived from its declaration."""
    with _errors():
        name = _entity_name(entity)
        if kind is SchemaKind.ARROW:
            schema = clen_core.arrow_schema(name)
            print(schema.to_string(show_field_metadata=True, show_schema_metadata=True))
        elif kind is SchemaKind.JSON_SCHEMA:
            print(json.dumps(clen_core.json_schema(name), indent=2, ensure_ascii=False))
        else:
            print(json.dumps(clen_core.table_schema(name), indent=2, ensure_ascii=False))


@app.command("formats")
def formats_cmd(as_json: JsonOption = False) -> None:
    """List the file formats: name, extensions, read/write, plugin."""
    rows = [describe(f) for f in formats()]
    if as_json:
        _print_json(rows)
        return
    yes = {True: "yes", False: "-"}
    _table(
        "formats",
        ["name", "extensions", "read", "write", "dataset", "plugin", "description"],
        [[r["name"], " ".join(r["extensions"]), yes[r["read"]], yes[r["write"]],
          yes[r["dataset"]], str(r["plugin"]), r["description"]] for r in rows],
    )  # fmt: skip


@app.command("plugins")
def plugins_cmd(as_json: JsonOption = False) -> None:
    """List the plugins: name, version, hooks, status, and why a plugin failed."""
    infos = list_plugins()
    if as_json:
        _print_json([p.to_dict() for p in infos])
        return
    _table(
        "plugins",
        ["name", "distribution", "version", "status", "hooks", "error"],
        [[p.name, p.distribution or "", p.version or "", p.status, ", ".join(p.hooks),
          p.error or ""] for p in infos],
    )  # fmt: skip


@app.command("rules")
def rules_cmd(
    entity: Annotated[
        str | None, typer.Option("--entity", help="Only the rules that report on this entity.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the validation rules: ID, severity, entity, description."""
    with _errors():
        selected = rules(_entity_name(entity) if entity else None)
    if as_json:
        _print_json(
            [{"id": r.id, "severity": r.severity.value, "entity": r.entity, "origin": r.origin,
              "description": r.description} for r in selected]
        )  # fmt: skip
        return
    _table(
        "rules",
        ["id", "severity", "entity", "description"],
        [[r.id, r.severity.value, r.entity or "any", r.description] for r in selected],
    )


# --------------------------------------------------------------------------- validate


EntityOption = Annotated[str, typer.Option("--entity", "-e", help="Entity of the file's rows.")]


def _print_report(report: Report, path: str, show: int) -> None:
    sev = report.by_severity
    rows = sum(report.records.values()) + sum(report.rejected.values())
    rejected = sum(report.rejected.values())
    out.print(
        f"{path}: {rows:,} row(s) read, {rejected:,} rejected; "
        f"{sev[Severity.ERROR]:,} error(s), {sev[Severity.WARNING]:,} warning(s), "
        f"{sev[Severity.INFO]:,} info",
        markup=False,
    )
    if not report.total:
        return
    # Counts by rule first: on a big file they say more than any list of findings.
    counts = []
    for rule, n in sorted(report.by_rule.items()):
        if not n:
            continue
        severity, description = _rule_info(rule, report)
        counts.append([rule, severity, f"{n:,}", description])
    _table("findings by rule", ["rule", "severity", "count", "description"], counts)
    shown = report.findings[:show]
    if shown:
        whole = (
            "" if len(shown) == report.total else f" of {report.total:,} (all: --report, --json)"
        )
        _table(
            f"first {len(shown)} finding(s){whole}",
            ["rule", "severity", "row", "key", "field", "value", "message"],
            [[f.rule, f.severity.value, "" if f.row is None else str(f.row), f.key or "",
              f.field or "", "" if f.value is None else str(f.value)[:40], f.message]
             for f in shown],
        )  # fmt: skip


def _rule_info(rule_id: str, report: Report) -> tuple[str, str]:
    """Severity and description of a rule of the report (a plugin's rule may be gone)."""
    if rule_id == READ_RULE:
        return Severity.ERROR.value, "a row that does not fit the entity: rejected when read"
    try:
        r = get_rule(rule_id)
    except LookupError:
        seen = next((f.severity.value for f in report.findings if f.rule == rule_id), "")
        return seen, ""
    return r.severity.value, r.description


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="File to validate.")],
    entity: EntityOption,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Format, if the extension does not say.")
    ] = None,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Write the report as JSON to this file.")
    ] = None,
    max_findings: Annotated[
        int | None,
        typer.Option(
            "--max-findings",
            min=0,
            help="Findings kept (counts go on). Default: the limit, 1000 unless "
            "CLEN_MAX_FINDINGS says otherwise.",
            show_default=False,
        ),
    ] = None,
    show: Annotated[
        int, typer.Option("--show", min=0, help="Findings listed on screen, after the counts.")
    ] = 20,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Validate a file: rows that do not fit the entity, then every rule.

    Exit 1 when there is an error-severity finding (a rejected row is one).
    """
    _import_rich_meanwhile()  # for the report, while the file is read
    with _errors(), _progress(quiet, "validating") as progress:
        done = validate_file(
            file,
            entity=entity,
            format=fmt,
            max_findings=max_findings,
            report_path=report_path,
            progress=_rows_done(progress, f"reading {file.name}"),
        )
    if as_json:
        _print_json(done.report.to_dict())
    else:
        _print_report(done.report, str(file), show)
    raise typer.Exit(EXIT_OK if done.ok else EXIT_FINDINGS)


# --------------------------------------------------------------------------- convert


@app.command("convert")
def convert_cmd(
    src: Annotated[Path, typer.Argument(metavar="SRC", help="File to read.")],
    dst: Annotated[Path, typer.Argument(metavar="DST", help="File to write.")],
    entity: EntityOption,
    from_fmt: Annotated[str | None, typer.Option("--from", help="Format of SRC.")] = None,
    to_fmt: Annotated[str | None, typer.Option("--to", help="Format of DST.")] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Write rejected rows (JSON Lines) here.")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Any rejected row: exit 1 and leave DST untouched."),
    ] = False,
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by",
            help="Write DST as a hive-partitioned Parquet dataset folder, by these keys: "
            "fields of the entity, or year/month of its main date (e.g. year,country).",
        ),
    ] = None,
    max_rows_per_file: Annotated[
        int | None,
        typer.Option(
            "--max-rows-per-file", min=1, help="Dataset folder: at most this many rows a file."
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
    quiet: QuietOption = False,
) -> None:
    """Convert a file to another format; rows that do not fit go to the rejects.

    The rows read always equal the rows written plus the rows rejected. With
    --partition-by, --max-rows-per-file or --append, DST is a Parquet dataset
    folder (see docs/pipelines.md), written atomically.
    """
    _import_rich_meanwhile()  # for the summary, while the file is read
    with _errors():
        try:
            with _progress(quiet, "converting") as progress:
                done = convert(
                    src,
                    dst,
                    entity=entity,
                    from_format=from_fmt,
                    to_format=to_fmt,
                    rejects=rejects,
                    strict=strict,
                    partition_by=partition_by,
                    max_rows_per_file=max_rows_per_file,
                    append=append,
                    progress=_rows_done(progress, f"{src.name} → {dst.name}"),
                )
        except RejectedRowsError as exc:
            if not strict:
                raise
            # --strict and a row rejected: the whole file was read, DST left untouched.
            err.print(
                f"{src}: {exc.rejected:,} of {exc.read:,} row(s) rejected; "
                f"--strict: {dst} not written",
                markup=False,
            )
            for r in exc.rejects[:10]:
                err.print(f"  {r}", markup=False)
            raise typer.Exit(EXIT_FINDINGS) from None
    out.print(
        f"{src} → {dst}: {done.read:,} read, {done.written:,} written, "
        f"{done.rejected:,} rejected" + (f" (see {rejects})" if rejects and done.rejected else ""),
        markup=False,
    )
    if done.rejected and not rejects:
        for r in done.rejects[:10]:
            err.print(f"  {r}", markup=False)
    raise typer.Exit(EXIT_OK)


# --------------------------------------------------------------------------- demo


@app.command("demo")
def demo_cmd(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="Where to write the demo files.")
    ] = Path("clen-demo"),
    quiet: QuietOption = False,
) -> None:
    """Write the embedded reference dataset in every format, validate it, read it all back."""
    from clen_core.data import reference_dataset

    with _errors():
        dataset = reference_dataset()
        report = validate(dataset)
        writable = [f for f in formats() if f.write is not None]
        files: list[tuple[str, Path]] = []
        with _progress(quiet, "demo") as progress:
            task = progress.add_task("writing and reading back", total=len(writable) + 1)
            for fmt in writable:
                result = write_dataset(dataset, folder / fmt.name, format=fmt)
                files += [(fmt.name, p) for p in result.paths]
                if fmt.read is not None and read_dataset(folder / fmt.name) != dataset:
                    _fail(f"{folder / fmt.name}: read back differs from the original")
                progress.advance(task)
            single = folder / "dataset.json"
            write_dataset(dataset, single)
            files.append(("json", single))
            if read_dataset(single) != dataset:
                _fail(f"{single}: read back differs from the original")
            progress.advance(task)
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
    out.print(
        f"validation: {sev[Severity.ERROR]} error(s), {sev[Severity.WARNING]} warning(s), "
        f"{sev[Severity.INFO]} info",
        markup=False,
    )
    for f in report.findings:
        if f.severity is not Severity.INFO:
            out.print(
                f"  {f.rule} {f.severity.value} {f.entity} {f.key}: {f.message}", markup=False
            )
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


@app.command("generate")
def generate_cmd(
    entity: Annotated[str, typer.Argument(metavar="ENTITY", help="Entity to generate.")],
    n: Annotated[int, typer.Argument(metavar="N", min=0, help="Number of rows.")],
    out_path: Annotated[Path, typer.Argument(metavar="OUT", help="File to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same rows.")] = 0,
    error_rate: Annotated[
        float,
        typer.Option("--error-rate", min=0.0, max=1.0, help="Fraction of rows made invalid."),
    ] = 0.0,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Format, if the extension does not say.")
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Write N rows of deterministic synthetic data (streamed, any size)."""
    from clen_core.synth import generate_batches

    with _errors():
        name = _entity_name(entity)
        target = get_format(fmt) if fmt else format_for_path(out_path)
        if target.write is None:
            _fail(f"format {target.name!r} cannot write")
        info = get_entity(name)
        with _progress(quiet, "generating") as progress:
            task = progress.add_task(f"generating {out_path.name}", total=n)

            def batches() -> Iterator[Any]:
                for b in generate_batches(name, n, seed=seed, error_rate=error_rate):
                    progress.advance(task, b.num_rows)
                    yield b

            with atomic_file(out_path) as sink:
                target.write(sink, info, batches())
    out.print(
        f"{out_path}: {n:,} {name} row(s), seed {seed}, error rate {error_rate}", markup=False
    )


# --------------------------------------------------------------------------- pt-report


class PTReportFormat(StrEnum):
    """What ``clen pt-report`` writes."""

    HTML = "html"
    JSON = "json"


@app.command("pt-report")
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
    out_path: Annotated[Path, typer.Option("--out", "-o", help="File to write the report to.")],
    fmt: Annotated[
        PTReportFormat, typer.Option("--format", "-f", help="html (a page) or json (programs).")
    ] = PTReportFormat.HTML,
    studies: Annotated[
        Path | None,
        typer.Option(
            "--studies",
            help="File of pt_study rows; without it, the embedded reference dataset's studies.",
        ),
    ] = None,
    rounds: Annotated[
        Path | None,
        typer.Option(
            "--rounds",
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
        secret = None if secret_file is None else secret_file.read_bytes().strip()
        if secret is not None and not secret:
            _fail(f"{secret_file}: the secret file is empty")
        embedded = reference_dataset() if studies is None or rounds is None else None
        evaluation = report_from_files(
            results,
            study,
            out_path,
            format=fmt.value,
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
            {"out": str(out_path), "format": fmt.value, "round_id": rid,
             "pseudonymised": not reveal, "key": None if key is None else str(key),
             "studies": brief}
        )  # fmt: skip
        return
    head = f"{out_path}: " + (f"round {rid}, " if rid else "") + f"{len(brief)} study(ies)"
    if key is not None:
        head += f"; key in {key}"
    out.print("\n".join([head, *lines]), markup=False)


def main() -> None:
    """The console-script entry point: run ``clen``, exit with its code.

    Process tuning (threads, allocator, pandas and numpy kept out) is the
    launcher's, :mod:`clen_core_launch`, which calls this.
    """
    try:
        app(prog_name="clen")
    except BrokenPipeError:
        # Output piped into a command that stopped reading: leave quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_OK) from None
    except (ClenError, OSError) as exc:  # outside a command's own handling: still one line
        err.print(f"error: {_known_error(exc)}", markup=False)
        raise SystemExit(EXIT_USAGE) from None
    except Exception as exc:  # a bug, not bad data: one line, or its traceback with --debug
        _internal_error(exc)
