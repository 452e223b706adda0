"""clen_core against the tools a data engineer would pick instead: each job, each entity, same run.

    python benchmarks/peers.py [--rows N,M] [--repeat K] [--entities E,...] [--jobs J,...]
                               [--variants clean,errors] [--error-rate R] [--out FILE]
                               [--json FILE] [--keep DIR] [--quick]

For each entity (default ``activity``, ``analysis_result``, ``substance`` and
``laboratory``) and each ``--rows`` size (default 1,000,000 and 10,000,000),
the data is written once by ``clen generate ENTITY N FILE --seed 1``, as CSV
and as Parquet, twice: clean, and with ``--error-rate`` of the rows made
invalid (``clen generate --error-rate``; :func:`clen_core.synth.injected`
says which rows, and in which field). Then, every side a whole process
(start-up included), timed ``--repeat`` times interleaved, the best time kept:

``validate``
    ``clen validate FILE.csv -e ENTITY`` against three validators given the
    same constraints, generated from the entity's declaration
    (:func:`contract`): Polars + dataframely (``Schema.filter``), pandera on
    Polars (``DataFrameSchema.validate(lazy=True)``) and DuckDB SQL (one
    query). Each peer writes the keys of the rows it finds invalid; they must
    be injected rows, and the injected rows it misses must be ones whose
    constraint it cannot express (a check digit: :data:`CHECK_DIGITS`), or
    the run stops (exit 2): the translation would be wrong.
``convert``
    ``clen convert FILE.csv OUT.parquet -e ENTITY`` (every check on) against
    pyarrow (``read_csv`` + ``write_table``), Polars (``read_csv`` +
    ``write_parquet``) and DuckDB (``COPY ... TO ... (FORMAT parquet)``), all
    zstd, all reading the columns with the declared types, none checking.
``partition``
    ``clen convert FILE.csv DIR -e ENTITY --partition-by KEYS`` (:data:`PARTITIONS`)
    against ``pyarrow.dataset.write_dataset`` and Polars
    ``write_parquet(partition_by=...)``.
``ndjson``
    ``clen convert FILE.parquet OUT.jsonl`` against Polars ``write_ndjson``
    and DuckDB ``COPY ... TO ... (FORMAT json)``.

clen's rejects are checked on every run: ``clen convert --rejects`` must name
exactly the injected rows (and their fields), ``clen validate --report`` must
count them, and every output must hold the rows read minus the rejects.

The ratio is the peer's best time over clen's (above 1: clen is faster). The
targets are those of issue 24, per peer row: ``validate`` at least 1.2, ``convert``
at least 1.0 at 10 million rows (0.8 below, where start-up counts), ``partition``
at least 1.0 against pyarrow with clen's peak memory under 500 MB, ``ndjson`` at
least 1.0 against Polars; and, with two sizes or more, the peak memory of ``clen
validate`` and ``clen convert`` at the largest size at most 1.25 times that at the
smallest.

A table per entity and job is printed, and written as Markdown to ``--out``
(default ``docs/performance.md``) between the markers ``<!-- peers.py:begin -->``
and ``<!-- peers.py:end -->`` (added at the end of the file when absent),
with the command, the machine and every run. Exit status: 0 when every target
passes, 1 when one fails, 2 when a command failed, an output was wrong or a peer
is not installed (the figures cannot be trusted). ``--quick`` runs a tiny size
(as CI does, to prove the script works) and exits 0 whatever the figures say.

The peers' programs are written into the data folder (``--keep DIR`` keeps them
with the data, to read or to run by hand). Dependencies: clen_core, pyarrow,
polars (2.1 or later: its ``Map`` type), duckdb, dataframely and pandera[polars].
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds a profile.py: keep it from shadowing the standard library's
# `profile` (which cProfile imports) when a script here is run by path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

# ruff: noqa: E402

import argparse
import datetime as dt
import importlib.util
import json
import shlex
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any


def _load_run() -> ModuleType:
    """benchmarks/run.py, for its process launcher and machine description (one copy of each)."""
    spec = importlib.util.spec_from_file_location("clen_benchmarks_run", HERE / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run = _load_run()
BenchError = run.BenchError

ROOT = HERE.parent
DEFAULT_OUT = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- peers.py:begin -->", "<!-- peers.py:end -->"
SEED = 1
ENTITIES = ("activity", "analysis_result", "substance", "laboratory")
JOBS = ("validate", "convert", "partition", "ndjson")
VARIANTS = ("clean", "errors")
FULL = {"rows": [1_000_000, 10_000_000], "repeat": 3, "error_rate": 0.01}
# A 5 % error rate at 1,000 rows injects every kind of invalid value of each entity.
QUICK = {"rows": [1_000], "repeat": 1, "error_rate": 0.05}
PEERS_NEEDED = ("polars", "duckdb", "dataframely", "pandera")

PARTITIONS = {
    "activity": "year,country",
    "analysis_result": "year",
    "substance": "un",
    "laboratory": "country",
}
"""The ``--partition-by`` keys per entity: what a laboratory network would query by
(``year`` is that of the entity's main date, as ``clen convert`` derives it). Substances
have no date nor country: the UN number (mostly empty, so one big partition) stands in.
No key is a field the injected errors make too long for a folder name: the unchecked
peers would write them (an analyte of 400 characters stops pyarrow)."""

CHECK_DIGITS = {
    "cas": "CAS RN check digit (weighted sum mod 10)",
    "ec": "EC number check digit (weighted sum mod 11)",
}
"""Code systems whose check the peers cannot express: they get the canonical pattern
(:attr:`clen_core.codes.CodeSystem.pattern`), which checks the shape only. The run stops
when a peer misses an injected row for any other reason."""

MEMORY_FACTOR = 1.25
PARTITION_PEAK = 500 * 2**20


# --------------------------------------------------------------------------- the contract


@dataclass(frozen=True)
class Value:
    """The checks on one value: a scalar field, a list's items, a map's keys or values."""

    kind: str
    """``str``, ``int``, ``float``, ``bool`` or ``date``."""
    enum: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int = 0
    max_length: int | None = None
    patterns: tuple[str, ...] = ()
    """Anchored regular expressions that must all match (a code system's canonical form,
    the field's pattern)."""
    code: str | None = None


@dataclass(frozen=True)
class Column:
    """One field as the peers see it: in the CSV, a list or a map is a JSON cell."""

    name: str
    container: str
    """``scalar``, ``list`` or ``map``."""
    value: Value
    """The scalar, a list's items, a map's values (or the items of its list values)."""
    nullable: bool
    """Optional, or has a default (an empty cell takes it)."""
    key: Value | None = None
    """A map's keys."""
    value_is_list: bool = False
    """A map whose values are lists (``Mapping[str, tuple[str, ...]]``)."""
    min_items: int = 0
    """Of the list, the map, and of a map's list values (one spec for all, as clen_core)."""
    unique_items: bool = False
    in_key: bool = False


@dataclass(frozen=True)
class Gap:
    """A constraint of the declaration that a peer only approximates (the peer is favoured)."""

    field: str
    kind: str
    """The injection kind (:data:`clen_core.synth.KINDS`) a peer may then miss."""
    what: str


@dataclass(frozen=True)
class Contract:
    """An entity's constraints, as written for the peers: generated from its declaration."""

    entity: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    ordered: tuple[tuple[str, str], ...]
    """``(earlier, later)``: later ≥ earlier when both are given."""
    together: tuple[tuple[str, ...], ...]
    """All given or all missing."""
    gaps: tuple[Gap, ...]
    rules: tuple[str, ...]
    """The rules ``clen validate`` runs on the entity that no peer mirrors."""
    main_date: str | None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _value(shape: Any, spec: Any, *, is_key: bool = False) -> Value:
    import datetime
    from decimal import Decimal

    from clen_core.codes import get_code_system

    py = shape.py
    if shape.enum is not None:
        return Value("str", enum=tuple(m.value for m in shape.enum))
    if py is str:
        code = spec.key_code if is_key else spec.code
        patterns = [get_code_system(code).pattern] if code else []
        if spec.pattern is not None and not is_key:
            patterns.append(spec.pattern)
        return Value(
            "str",
            min_length=1 if is_key else (spec.min_length or 0),
            max_length=None if is_key else spec.max_length,
            patterns=tuple(patterns),
            code=code,
        )
    kinds: dict[type, str] = {bool: "bool", int: "int", float: "float", datetime.date: "date"}
    if py in kinds:
        ge, gt, le = ((None, None, None) if py in (bool, datetime.date)
                      else (spec.ge, spec.gt, spec.le))  # fmt: skip
        return Value(kinds[py], ge=ge, gt=gt, le=le)
    if py is Decimal:
        # None of the four entities has one: say so rather than guess a translation.
        raise BenchError("decimal fields have no peer translation yet")
    raise BenchError(f"no peer translation for {py!r}")  # pragma: no cover


def contract(entity: str) -> Contract:
    """The constraints of ``entity``'s declaration, in the terms the peers' programs use.

    Field by field (:class:`clen_core.model.FieldInfo`): the type, whether it may be
    empty, enum values, bounds, text lengths (characters), the field's pattern and the
    canonical pattern of its code system, list and map sizes, distinct items; then the
    key (unique), the ``Ordered`` and ``Together`` constraints. :data:`CHECK_DIGITS` says
    what the patterns cannot.
    """
    from clen_core.model.entity import Ordered, Together, get_entity
    from clen_core.model.fields import ListShape, MapShape, ScalarShape
    from clen_core.rules import rules

    info = get_entity(entity)
    columns = []
    gaps = []
    for f in info.fields:
        shape = f.shape
        key: Value | None = None
        if isinstance(shape, ScalarShape):
            container, value, is_list = "scalar", _value(shape, f.spec), False
        elif isinstance(shape, ListShape) and isinstance(shape.item, ScalarShape):
            container, value, is_list = "list", _value(shape.item, f.spec), False
        elif isinstance(shape, MapShape):
            inner = shape.value
            scalar = inner.item if isinstance(inner, ListShape) else inner
            if not isinstance(scalar, ScalarShape):
                raise BenchError(f"{entity}.{f.name}: nested deeper than a map of lists")
            container, value, is_list = "map", _value(scalar, f.spec), isinstance(inner, ListShape)
            key = _value(shape.key, f.spec, is_key=True)
        else:
            raise BenchError(f"{entity}.{f.name}: no peer translation for {shape!r}")
        col = Column(
            f.name,
            container,
            value,
            nullable=f.optional or f.has_default,
            key=key,
            value_is_list=is_list,
            min_items=f.spec.min_items,
            unique_items=f.spec.unique_items,
            in_key=f.name in info.key,
        )
        columns.append(col)
        for v in (col.value, col.key):
            if v is not None and v.code in CHECK_DIGITS:
                gaps.append(Gap(f.name, "code", f"{CHECK_DIGITS[v.code]}: the pattern only"))
    from clen_core.io.partitioned import main_date

    return Contract(
        entity=info.name,
        columns=tuple(columns),
        key=tuple(info.key),
        ordered=tuple((c.earlier, c.later) for c in info.constraints if isinstance(c, Ordered)),
        together=tuple(c.fields for c in info.constraints if isinstance(c, Together)),
        gaps=tuple(gaps),
        rules=tuple(r.id for r in rules(info.name) if r.id not in ("READ-001", "DUP-001")),
        main_date=main_date(info),
    )


# --------------------------------------------------------------------------- Polars


_PL_TYPES = {"str": "pl.String", "int": "pl.Int64", "float": "pl.Float64",
             "bool": "pl.Boolean", "date": "pl.Date"}  # fmt: skip


def _pl_read_type(c: Column) -> str:
    return "pl.String" if c.container != "scalar" else _PL_TYPES[c.value.kind]


def _pl_decoded_type(c: Column) -> str:
    item = _PL_TYPES[c.value.kind]
    if c.container == "list":
        return f"pl.List({item})"
    if c.container == "map":
        return f"pl.Map(pl.String, {f'pl.List({item})' if c.value_is_list else item})"
    return item


def _pl_checks(v: Value, e: str) -> list[tuple[str, str]]:
    """(name, Polars expression source) of each check of a non-null value ``e``."""
    out = []
    if v.enum:
        out.append(("enum", f"{e}.is_in({list(v.enum)!r})"))
    if v.kind == "str":
        if v.min_length:
            out.append(("min_length", f"{e}.str.len_chars() >= {v.min_length}"))
        if v.max_length is not None:
            out.append(("max_length", f"{e}.str.len_chars() <= {v.max_length}"))
        out += [("code" if v.code and i == 0 else "pattern", f"{e}.str.contains({p!r})")
                for i, p in enumerate(v.patterns)]  # fmt: skip
    for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<=")):
        bound = getattr(v, attr)
        if bound is not None:
            out.append((attr, f"{e} {op} {bound!r}"))
    if v.kind == "float":
        out.append(("finite", f"{e}.is_finite()"))
    return out


def _pl_all(e: str, v: Value) -> str:
    """Every item of list expression ``e`` is given and passes ``v``'s checks."""
    el = "pl.element()"
    conds = [f"{el}.is_not_null()", *(f"({s})" for _, s in _pl_checks(v, el))]
    return f"{e}.list.eval({' & '.join(conds)}).list.all()"


def _pl_list_checks(c: Column, e: str) -> list[tuple[str, str]]:
    out = [("items", _pl_all(e, c.value))]
    if c.min_items:
        out.append(("min_items", f"{e}.list.len() >= {c.min_items}"))
    if c.unique_items:
        out.append(("unique_items", f"{e}.list.n_unique() == {e}.list.len()"))
    return out


def _pl_map_checks(c: Column, e: str) -> list[tuple[str, str]]:
    assert c.key is not None
    out = [("keys", _pl_all(f"{e}.map.keys()", c.key))]
    if c.min_items:
        out.append(("min_items", f"{e}.map.len() >= {c.min_items}"))
    values = f"{e}.map.values()"
    if c.value_is_list:
        el = "pl.element()"
        inner = " & ".join(f"({s})" for _, s in _pl_list_checks(c, el))
        out.append(("values", f"{values}.list.eval({el}.is_not_null() & {inner}).list.all()"))
    else:
        out.append(("values", _pl_all(values, c.value)))
    return out


def _pl_row_checks(k: Contract) -> list[tuple[str, str]]:
    """The cross-field constraints, as row-wise Polars expressions."""
    out = []
    for earlier, later in k.ordered:
        a, b = f"pl.col({earlier!r})", f"pl.col({later!r})"
        out.append((f"ordered_{later}", f"{a}.is_null() | {b}.is_null() | ({b} >= {a})"))
    for group in k.together:
        given = " + ".join(f"pl.col({f!r}).is_not_null().cast(pl.Int8)" for f in group)
        out.append((f"together_{'_'.join(group)}", f"({given}).is_in([0, {len(group)}])"))
    return out


def _pl_schema(k: Contract) -> str:
    """The ``SCHEMA`` Polars reads the CSV with: the declared types, JSON cells as text."""
    return "SCHEMA = {" + ", ".join(f"{c.name!r}: {_pl_read_type(c)}" for c in k.columns) + "}"


def _pl_prelude(k: Contract, *, maps: bool = True) -> str:
    """Reading the CSV with the declared types, JSON cells decoded (maps unless ``maps`` is
    false): shared by the Polars validators."""
    decode = [f"pl.col({c.name!r}).str.json_decode({_pl_decoded_type(c)})"
              for c in k.columns
              if c.container == "list" or (c.container == "map" and maps)]  # fmt: skip
    lines = [
        "import json",
        "import sys",
        "",
        "import polars as pl",
        "",
        _pl_schema(k),
        "",
        "",
        "def read(path):",
        '    """The CSV, typed as declared; lists and maps (JSON cells) decoded."""',
        "    df = pl.read_csv(path, schema=SCHEMA)",
    ]
    if decode:
        lines += ["    df = df.with_columns(", *(f"        {d}," for d in decode), "    )"]
    lines += ["    return df", ""]
    return "\n".join(lines)


_DY_TYPES = {"int": "dy.Int64", "float": "dy.Float64", "bool": "dy.Bool", "date": "dy.Date"}


def _dy_scalar(v: Value, *, nullable: bool, primary_key: bool = False) -> str:
    """A dataframely column for a scalar: built-in options where exact, else ``check``."""
    args = ["primary_key=True"] if primary_key else [f"nullable={nullable}"]
    checks = []
    if v.kind == "str":
        # dataframely's min_length/max_length count bytes; the declaration counts characters.
        checks = _pl_checks(v, "c")
        if v.patterns and not v.enum:
            args.append(f"regex={v.patterns[0]!r}")
            checks = [x for x in checks if x[1] != f"c.str.contains({v.patterns[0]!r})"]
        ctor = "dy.String"
    else:
        ctor = _DY_TYPES[v.kind]
        for attr, kw in (("ge", "min"), ("gt", "min_exclusive"), ("le", "max")):
            bound = getattr(v, attr)
            if bound is not None:
                args.append(f"{kw}={bound!r}")
    if checks:
        names: Counter[str] = Counter()
        items = []
        for name, src in checks:
            names[name] += 1
            label = name if names[name] == 1 else f"{name}_{names[name]}"
            items.append(f'"{label}": lambda c: {src}')
        args.append("check={" + ", ".join(items) + "}")
    return f"{ctor}({', '.join(args)})"


def _lambda_checks(checks: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'"{n}": lambda c: {s}' for n, s in checks) + "}"


def dataframely_program(k: Contract) -> str:
    """A Python program: Polars reads the CSV, a dataframely schema filters it."""
    lines = [_pl_prelude(k), "import dataframely as dy", "", "", "class Contract(dy.Schema):"]
    for c in k.columns:
        if c.container == "scalar":
            col = _dy_scalar(c.value, nullable=c.nullable, primary_key=c.in_key)
        elif c.container == "list":
            inner = _dy_scalar(c.value, nullable=False)
            extra = [f"min_length={c.min_items}"] if c.min_items else []
            if c.unique_items:
                extra.append('check={"unique_items": lambda c: c.list.n_unique() == c.list.len()}')
            col = f"dy.List({inner}, nullable={c.nullable}{''.join(', ' + x for x in extra)})"
        else:
            # dataframely has no map column: any type, the checks written out.
            checks = _pl_map_checks(c, "c")
            if not c.nullable:
                checks.insert(0, ("required", "c.is_not_null()"))
            col = f"dy.Any(check={_lambda_checks(checks)})"
        lines.append(f"    {c.name} = {col}")
    for name, src in _pl_row_checks(k):
        lines += ["", "    @dy.rule()", f"    def {name}(cls) -> pl.Expr:", f"        return {src}"]
    key = ", ".join(f"{f!r}" for f in k.key)
    lines += [
        "",
        "",
        "df = read(sys.argv[1])",
        "valid, failure = Contract.filter(df)",
        f"bad = failure.invalid().select({key}).rows()",
        "with open(sys.argv[2], 'w') as out:",
        "    json.dump({'rows': df.height, 'invalid': bad, 'counts': failure.counts()}, out)",
        "",
    ]
    return "\n".join(lines)


def pandera_program(k: Contract) -> str:
    """A Python program: Polars reads the CSV, a pandera ``DataFrameSchema`` validates it."""
    lines = [
        # pandera cannot report the failing values of a map column (it casts them to text):
        # maps stay JSON text, decoded in their check.
        _pl_prelude(k, maps=False),
        "import pandera.polars as pa",
        "",
        "",
        "def expr(e, name):",
        '    """A custom check from a Polars expression (an empty cell passes: nullable= says)."""',
        "    def check(d):",
        "        return d.lazyframe.select(pl.col(d.key).is_null() | e(pl.col(d.key)))",
        "",
        "    return pa.Check(check, name=name)",
        "",
        "",
        "def frame(e, name):",
        "    return pa.Check(lambda d: d.lazyframe.select(e), name=name)",
        "",
        "",
        "SCHEMA_ = pa.DataFrameSchema(",
        "    {",
    ]  # fmt: skip
    for c in k.columns:
        checks: list[str] = []
        v = c.value
        dtype = _pl_decoded_type(c)
        if c.container == "scalar":
            checks += [f"pa.Check.isin({list(v.enum)!r})"] if v.enum else []
            if v.kind == "str":
                if v.min_length or v.max_length is not None:
                    checks.append(f"pa.Check.str_length({v.min_length or None}, {v.max_length})")
                checks += [f"pa.Check.str_matches({p!r})" for p in v.patterns]
            for attr in ("ge", "gt", "le"):
                bound = getattr(v, attr)
                if bound is not None:
                    checks.append(f"pa.Check.{attr}({bound!r})")
            if v.kind == "float":
                checks.append('expr(lambda c: c.is_finite(), "finite")')
        elif c.container == "list":
            checks += [f"expr(lambda c: {s}, {n!r})" for n, s in _pl_list_checks(c, "c")]
        else:
            # One check, so that the cell is decoded once (Polars' common subexpressions).
            m = f"c.str.json_decode({dtype})"
            found = " & ".join(f"({s})" for _, s in _pl_map_checks(c, m))
            checks.append(f"expr(lambda c: {found}, 'map')")
            dtype = "pl.String"
        unique = ", unique=True" if c.in_key and len(k.key) == 1 else ""
        lines.append(
            f"        {c.name!r}: pa.Column({dtype}, nullable={c.nullable}{unique}, "
            f"checks=[{', '.join(checks)}]),"
        )
    frame_checks = [f"frame({s}, {n!r})" for n, s in _pl_row_checks(k)]
    unique_all = f", unique={list(k.key)!r}" if len(k.key) > 1 else ""
    key = ", ".join(f"{f!r}" for f in k.key)
    lines += [
        "    },",
        f"    checks=[{', '.join(frame_checks)}]{unique_all},",
        ")",
        "",
        "df = read(sys.argv[1])",
        "try:",
        "    SCHEMA_.validate(df, lazy=True)",
        "    rows = []",
        "except pa.errors.SchemaErrors as exc:",
        "    cases = exc.failure_cases",
        "    if cases['index'].null_count():",
        "        # A failure without a row (a wrong column type): no row-level answer.",
        "        print(cases.filter(pl.col('index').is_null()), file=sys.stderr)",
        "        sys.exit(3)",
        "    rows = cases['index'].unique().sort().to_list()",
        f"bad = df[rows].select({key}).rows() if rows else []",
        "with open(sys.argv[2], 'w') as out:",
        "    json.dump({'rows': df.height, 'invalid': bad}, out)",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- DuckDB


_SQL_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN",
              "date": "DATE"}  # fmt: skip


def _sql_source(sql: str) -> str:
    """``sql`` as a Python literal a reader can read: a raw triple-quoted string if it can."""
    if '"""' in sql or sql.endswith(("\\", '"')):
        return repr(sql)
    return 'r"""\n' + sql + '\n"""'


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _sql_read_type(c: Column) -> str:
    """The type DuckDB reads a column's cells as (a list or map is JSON text)."""
    return _SQL_TYPES[c.value.kind] if c.container == "scalar" else "VARCHAR"


def _sql_columns(k: Contract) -> str:
    """``read_csv``'s ``columns`` option: every field, typed as declared."""
    return "{" + ", ".join(f"{_lit(c.name)}: {_lit(_sql_read_type(c))}" for c in k.columns) + "}"


def _sql_csv(k: Contract, path: str) -> str:
    """DuckDB's reading of the CSV at ``path`` (clen_core's dialect), typed as declared."""
    return (
        f"read_csv({_lit(path)}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"auto_detect = false, columns = {_sql_columns(k)})"
    )


def _sql_checks(v: Value, e: str) -> list[str]:
    out = []
    if v.enum:
        out.append(f"{e} IN ({', '.join(map(_lit, v.enum))})")
    if v.kind == "str":
        if v.min_length:
            out.append(f"length({e}) >= {v.min_length}")
        if v.max_length is not None:
            out.append(f"length({e}) <= {v.max_length}")
        out += [f"regexp_full_match({e}, {_lit(p)})" for p in v.patterns]
    for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<=")):
        bound = getattr(v, attr)
        if bound is not None:
            out.append(f"{e} {op} {bound!r}")
    if v.kind == "float":
        out.append(f"isfinite({e})")
    return out


def _sql_all(e: str, v: Value, var: str) -> str:
    conds = " AND ".join([f"{var} IS NOT NULL", *_sql_checks(v, var)])
    return f"coalesce(list_bool_and(list_transform({e}, lambda {var}: {conds})), true)"


def _sql_list(c: Column, e: str, var: str) -> list[str]:
    out = [_sql_all(e, c.value, var)]
    if c.min_items:
        out.append(f"len({e}) >= {c.min_items}")
    if c.unique_items:
        out.append(f"len(list_distinct({e})) = len({e})")
    return out


def _sql_json_type(c: Column) -> str:
    item = _SQL_TYPES[c.value.kind]
    if c.container == "list":
        return f'["{item}"]'
    return f'"MAP(VARCHAR, {item}[])"' if c.value_is_list else f'"MAP(VARCHAR, {item})"'


def duckdb_query(k: Contract, csv: str) -> str:
    """One DuckDB query: the keys of the rows that break a constraint of ``k``."""
    decoded = ", ".join(
        f"from_json({_q(c.name)}, {_lit(_sql_json_type(c))}) AS {_q('_' + c.name)}"
        for c in k.columns if c.container != "scalar"
    )  # fmt: skip
    conds = []
    for c in k.columns:
        col = _q(c.name)
        if not c.nullable:
            conds.append(f"{col} IS NOT NULL")
        if c.container == "scalar":
            checks = _sql_checks(c.value, col)
        else:
            # A malformed JSON cell stops the query (from_json raises), as it stops Polars.
            d = _q("_" + c.name)
            checks = []
            if c.container == "list":
                checks += _sql_list(c, d, "x")
            else:
                assert c.key is not None
                checks.append(_sql_all(f"map_keys({d})", c.key, "k"))
                if c.min_items:
                    checks.append(f"cardinality({d}) >= {c.min_items}")
                if c.value_is_list:
                    inner = " AND ".join(_sql_list(c, "v", "x"))
                    checks.append(
                        f"coalesce(list_bool_and(list_transform(map_values({d}), "
                        f"lambda v: v IS NOT NULL AND {inner})), true)"
                    )
                else:
                    checks.append(_sql_all(f"map_values({d})", c.value, "v"))
        if checks:
            conds.append(f"({col} IS NULL OR coalesce({' AND '.join(checks)}, false))")
    for earlier, later in k.ordered:
        a, b = _q(earlier), _q(later)
        conds.append(f"({a} IS NULL OR {b} IS NULL OR {b} >= {a})")
    for group in k.together:
        given = " + ".join(f"({_q(f)} IS NOT NULL)::INTEGER" for f in group)
        conds.append(f"({given}) IN (0, {len(group)})")
    key = ", ".join(_q(f) for f in k.key)
    source = _sql_csv(k, csv)
    body = "\n     AND ".join(conds)
    return (
        f"SELECT {key} FROM (\n"
        f"  SELECT *, {decoded + ', ' if decoded else ''}count(*) OVER (PARTITION BY {key}) AS _n\n"
        f"  FROM {source}\n"
        f")\nWHERE _n > 1 OR NOT (\n         {body}\n)"
    )


def duckdb_program(k: Contract) -> str:
    """A Python program running :func:`duckdb_query` on the CSV named on its command line."""
    query = duckdb_query(k, "{csv}")
    return "\n".join([
        "import json",
        "import sys",
        "",
        "import duckdb",
        "",
        f"QUERY = {_sql_source(query)}",
        "",
        "con = duckdb.connect()",
        "bad = con.sql(QUERY.replace('{csv}', sys.argv[1].replace(\"'\", \"''\"))).fetchall()",
        "with open(sys.argv[2], 'w') as out:",
        "    json.dump({'invalid': bad}, out)",
        "",
    ])  # fmt: skip


# --------------------------------------------------------------------------- converters


_PA_TYPES = {"str": "pa.string()", "int": "pa.int64()", "float": "pa.float64()",
             "bool": "pa.bool_()", "date": "pa.date32()"}  # fmt: skip


def _pa_read(k: Contract, *imports: str) -> str:
    types = ", ".join(
        f"{c.name!r}: {_PA_TYPES[c.value.kind] if c.container == 'scalar' else 'pa.string()'}"
        for c in k.columns
    )
    return "\n".join([
        "import sys",
        "",
        "import pyarrow as pa",
        *imports,
        "import pyarrow.csv as pc",
        "",
        f"TYPES = {{{types}}}",
        '# Empty cells are null, a quoted "" the empty text (as clen_core writes them).',
        "OPTIONS = pc.ConvertOptions(",
        "    column_types=TYPES, strings_can_be_null=True, quoted_strings_can_be_null=False",
        ")",
        "table = pc.read_csv(sys.argv[1], convert_options=OPTIONS)",
        "",
    ])  # fmt: skip


def _dd_program(sql: str) -> str:
    """A Python program running ``sql`` with ``{src}`` and ``{dst}`` from its command line."""
    return "\n".join([
        "import sys",
        "",
        "import duckdb",
        "",
        f"SQL = {_sql_source(sql)}",
        "src, dst = (a.replace(\"'\", \"''\") for a in sys.argv[1:3])",
        "duckdb.sql(SQL.replace('{src}', src).replace('{dst}', dst))",
        "",
    ])  # fmt: skip


def _derived(k: Contract, keys: list[str]) -> list[tuple[str, str]]:
    """(``year``/``month``, date field) for each partition key taken from the main date."""
    names = {c.name for c in k.columns}
    out = [(x, k.main_date or "") for x in keys if x in ("year", "month") and x not in names]
    if out and k.main_date is None:
        raise BenchError(f"{k.entity} has no date field for {[x for x, _ in out]}")
    return out


def peer_programs(k: Contract) -> dict[str, str]:
    """Every peer's program for entity ``k``, by ``job-peer`` name.

    Each reads ``argv[1]`` and writes ``argv[2]``: the keys of the invalid rows (as JSON)
    for a validator, the converted file or folder otherwise. An entity without
    :data:`PARTITIONS` keys has no partition programs.
    """
    keys = PARTITIONS[k.entity].split(",") if k.entity in PARTITIONS else []
    derived = _derived(k, keys)
    pa_derived = [
        f"table = table.append_column({x!r}, pyarrow.compute.{x}(table[{d!r}]).cast(pa.int32()))"
        for x, d in derived
    ]
    pl_derived = [f"df = df.with_columns(pl.col({d!r}).dt.{x}().alias({x!r}))" for x, d in derived]
    pl_read = "\n".join(["import sys", "", "import polars as pl", "", _pl_schema(k), "",
                         "df = pl.read_csv(sys.argv[1], schema=SCHEMA)", ""])  # fmt: skip
    programs = {
        "validate-dataframely": dataframely_program(k),
        "validate-pandera": pandera_program(k),
        "validate-duckdb": duckdb_program(k),
        "convert-pyarrow": _pa_read(k, "import pyarrow.parquet as pq")
        + "pq.write_table(table, sys.argv[2], compression='zstd')\n",
        "convert-polars": pl_read + "df.write_parquet(sys.argv[2], compression='zstd')\n",
        "convert-duckdb": _dd_program(f"COPY (SELECT * FROM {_sql_csv(k, '{src}')}) "
                                      "TO '{dst}' (FORMAT parquet, COMPRESSION zstd)"),
        "partition-pyarrow": _pa_read(k, "import pyarrow.compute", "import pyarrow.dataset as ds")
        + "".join(line + "\n" for line in pa_derived)
        + "\n".join(["ds.write_dataset(",
            f"    table, sys.argv[2], format='parquet', partitioning={keys!r},",
            "    partitioning_flavor='hive', max_partitions=1 << 20,",
            "    file_options=ds.ParquetFileFormat().make_write_options(compression='zstd'),",
            ")", ""]),
        "partition-polars": pl_read + "".join(line + "\n" for line in pl_derived)
        + f"df.write_parquet(sys.argv[2], partition_by={keys!r}, compression='zstd')\n",
        "ndjson-polars": "import sys\n\nimport polars as pl\n\n"
        "pl.read_parquet(sys.argv[1]).write_ndjson(sys.argv[2])\n",
        "ndjson-duckdb": _dd_program(
            "COPY (SELECT * FROM read_parquet('{src}')) TO '{dst}' (FORMAT json)"
        ),
    }  # fmt: skip
    return {n: p for n, p in programs.items() if keys or not n.startswith("partition-")}


PEER_LABELS = {
    "validate-dataframely": "Polars + dataframely",
    "validate-pandera": "pandera on Polars",
    "validate-duckdb": "DuckDB SQL",
    "convert-pyarrow": "pyarrow `read_csv` + `write_table`",
    "convert-polars": "Polars `read_csv` + `write_parquet`",
    "convert-duckdb": "DuckDB `COPY … (FORMAT parquet)`",
    "partition-pyarrow": "pyarrow `write_dataset`",
    "partition-polars": "Polars `write_parquet(partition_by=…)`",
    "ndjson-polars": "Polars `write_ndjson`",
    "ndjson-duckdb": "DuckDB `COPY … (FORMAT json)`",
}


# --------------------------------------------------------------------------- data


@dataclass
class Data:
    """The files of one entity, size and variant, and what was injected into them."""

    entity: str
    rows: int
    variant: str
    csv: Path
    parquet: Path
    injected: dict[int, tuple[str, str]]
    """0-based row → (field, kind) of every invalid row."""
    _keys: dict[tuple[Any, ...], int] | None = None

    def row_of(self, key: Sequence[Any], k: Contract) -> int:
        """The 0-based row of a key (keys are unique in generated files)."""
        if self._keys is None:
            import pyarrow.parquet as pq

            table = pq.read_table(self.parquet, columns=list(k.key))
            columns = [table[name].to_pylist() for name in k.key]
            self._keys = {key: i for i, key in enumerate(zip(*columns, strict=True))}
            if len(self._keys) != self.rows:
                raise BenchError(f"{self.parquet.name}: keys are not unique")
        try:
            return self._keys[tuple(key)]
        except KeyError:
            raise BenchError(f"{self.parquet.name}: no row has the key {key!r}") from None


def generate(clen: list[str], folder: Path, entity: str, rows: int, variant: str,
             error_rate: float) -> tuple[Data, float]:  # fmt: skip
    """Write the CSV and Parquet files with ``clen generate``; return them and the seconds."""
    from clen_core.synth import injected

    rate = error_rate if variant == "errors" else 0.0
    stem = f"{entity}-{rows}-{variant}"
    start = time.perf_counter()
    for ext in ("csv", "parquet"):
        run.run_proc([*clen, "generate", entity, str(rows), str(folder / f"{stem}.{ext}"),
                      "--seed", str(SEED), "--error-rate", str(rate), "-q"])  # fmt: skip
    plan = {r: (f, kind) for r, f, kind in injected(entity, rows, seed=SEED, error_rate=rate)}
    data = Data(entity, rows, variant, folder / f"{stem}.csv", folder / f"{stem}.parquet", plan)
    return data, time.perf_counter() - start


def parquet_rows(path: Path) -> int:
    """Rows of a Parquet file, or of every Parquet file under a folder."""
    import pyarrow.parquet as pq

    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    return sum(pq.read_metadata(f).num_rows for f in files)


def jsonl_rows(path: Path) -> int:
    """Records of a JSON Lines file (clen_core's first line, its metadata, not counted)."""
    with open(path, "rb") as f:
        first = f.readline()
        lines = 1 if first.strip() and not first.startswith(b'{"clen_core"') else 0
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


# --------------------------------------------------------------------------- sides


@dataclass
class Side:
    """One side of a measurement: a command, and how to check what one run of it did."""

    name: str
    """``clen`` or a peer's program name (``validate-duckdb``)."""
    cmd: list[str]
    out: Path
    check: Callable[[], str]
    """Raises :class:`BenchError` when the output is wrong; else says what was rejected."""
    ok: tuple[int, ...] = (0,)
    procs: list[Any] = field(default_factory=list)
    rejects: str = ""

    @property
    def best(self) -> Any:
        return min(self.procs, key=lambda p: p.wall)

    @property
    def peak(self) -> int | None:
        known = [p.maxrss for p in self.procs if p.maxrss is not None]
        return max(known) if known else None

    @property
    def label(self) -> str:
        return PEER_LABELS.get(self.name, self.name)


def measure(sides: list[Side], repeat: int) -> None:
    """Run every side ``repeat`` times, interleaved (the order reversed every other round)."""
    for i in range(repeat):
        for side in sides if i % 2 == 0 else sides[::-1]:
            _remove(side.out)
            side.procs.append(run.run_proc(side.cmd, ok=side.ok))
            side.rejects = side.check()
            _remove(side.out)


def _clen_rejects(data: Data, rejects: Path, source: Path) -> int:
    """Check that ``clen convert --rejects`` named exactly the injected rows and fields."""
    first = 2 if source.suffix == ".csv" else 1  # a CSV's row 1 is its header
    found: dict[int, set[str]] = {}
    if rejects.exists():
        with open(rejects, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                found[record["row"] - first] = {e["field"] for e in record["errors"]}
    if found.keys() != data.injected.keys():
        extra = sorted(found.keys() - data.injected.keys())[:5]
        missed = sorted(data.injected.keys() - found.keys())[:5]
        raise BenchError(f"clen rejected rows {extra} that were not injected, "
                         f"and not {missed} that were ({source.name})")  # fmt: skip
    wrong = [(r, data.injected[r][0], sorted(f)) for r, f in found.items()
             if data.injected[r][0] not in f]  # fmt: skip
    if wrong:
        raise BenchError(f"clen rejected the injected rows, for other fields: {wrong[:5]}")
    return len(found)


def _exact(n: int) -> str:
    return f"{n:,} = injected"


def clen_side(job: str, data: Data, k: Contract, clen: list[str], folder: Path) -> Side:
    """``clen`` doing ``job`` on ``data``, with the check of its output and rejects."""
    n_bad = len(data.injected)
    expected = data.rows - n_bad
    stem = folder / f"out-clen-{data.entity}"
    if job == "validate":
        report = stem.with_suffix(".json")

        def check_validate() -> str:
            got = json.loads(report.read_text(encoding="utf-8"))
            rejected = got.get("rejected", {}).get(data.entity, 0)
            dup = got.get("counts", {}).get("by_rule", {}).get("DUP-001", 0)
            rows = {f["row"] - 2 for f in got.get("findings", []) if f["rule"] == "READ-001"}
            stray = sorted(rows - data.injected.keys())[:5]
            if rejected != n_bad or dup or stray:
                raise BenchError(
                    f"clen validate {data.csv.name}: {rejected} rejected (injected {n_bad}), "
                    f"{dup} duplicate keys, rows not injected: {stray}"
                )
            return _exact(rejected)

        cmd = [*clen, "validate", str(data.csv), "-e", data.entity, "-q", "--report", str(report)]
        return Side("clen", cmd, report, check_validate, ok=(0, 1))
    rejects = folder / f"rejects-{data.entity}.jsonl"
    if job == "convert":
        out, source, count = stem.with_suffix(".parquet"), data.csv, parquet_rows
        extra = ["-e", data.entity]
    elif job == "partition":
        out, source, count = stem, data.csv, parquet_rows
        extra = ["-e", data.entity, "--partition-by", PARTITIONS[data.entity]]
    else:
        out, source, count = stem.with_suffix(".jsonl"), data.parquet, jsonl_rows
        extra = []

    def check_convert() -> str:
        n = _clen_rejects(data, rejects, source)
        written = count(out)
        _remove(rejects)
        if written != expected:
            raise BenchError(f"clen {job}: {written:,} rows written, expected {expected:,}")
        return _exact(n)

    cmd = [*clen, "convert", str(source), str(out), *extra, "-q", "--rejects", str(rejects)]
    return Side("clen", cmd, out, check_convert)


def peer_side(name: str, data: Data, k: Contract, program: Path, folder: Path) -> Side:
    """A peer's program on ``data``, with the check of its output."""
    job = name.split("-", 1)[0]
    stem = folder / f"out-{name}-{data.entity}"
    python = [sys.executable, str(program)]
    if job == "validate":
        out = stem.with_suffix(".json")
        gaps = {(g.field, g.kind): g for g in k.gaps}

        def check_validate() -> str:
            got = json.loads(out.read_text(encoding="utf-8"))
            found = {data.row_of(key, k) for key in got["invalid"]}
            extra = sorted(found - data.injected.keys())
            if extra:
                raise BenchError(
                    f"{name} finds valid rows invalid (the translation is wrong): rows {extra[:5]}"
                )
            missed = Counter(data.injected[r] for r in data.injected.keys() - found)
            unexplained = [m for m in missed if m not in gaps]
            if unexplained:
                raise BenchError(f"{name} misses injected rows it should catch: {unexplained}")
            text = f"{len(found):,} of {len(data.injected):,}"
            if missed:
                text += " (missed: " + ", ".join(f"{n} {f} {kind}" for (f, kind), n
                                                 in sorted(missed.items())) + ")"  # fmt: skip
            return text

        return Side(name, [*python, str(data.csv), str(out)], out, check_validate)
    if job == "ndjson":
        out, source, count = stem.with_suffix(".jsonl"), data.parquet, jsonl_rows
    else:
        out, source, count = (stem if job == "partition" else stem.with_suffix(".parquet"),
                              data.csv, parquet_rows)  # fmt: skip

    def check_convert() -> str:
        written = count(out)
        if written != data.rows:
            raise BenchError(f"{name}: {written:,} rows written, expected {data.rows:,}")
        return "unchecked"

    return Side(name, [*python, str(source), str(out)], out, check_convert)


# --------------------------------------------------------------------------- targets


@dataclass
class Row:
    """One line of a table: a side's best run, its ratio to clen and the target."""

    entity: str
    job: str
    rows: int
    variant: str
    side: str
    label: str
    wall: float
    cpu: float
    peak: int | None
    times: list[float]
    cpus: list[float]
    peaks: list[int]
    ratio: float | None
    rejects: str
    target: str = ""
    passed: bool | None = None

    @property
    def result(self) -> str:
        return "—" if self.passed is None else "PASS" if self.passed else "FAIL"


def target(job: str, peer: str, rows: int) -> float | None:
    """The least ratio (peer time / clen time) issue 24 asks of ``clen`` against ``peer``."""
    if job == "validate":
        return 1.2
    if job == "convert":
        return 1.0 if rows >= 10_000_000 else 0.8
    if job == "partition":
        return 1.0 if peer == "partition-pyarrow" else None
    return 1.0 if peer == "ndjson-polars" else None


CLEN_LABELS = {
    "validate": "`clen validate`",
    "convert": "`clen convert`",
    "partition": "`clen convert --partition-by`",
    "ndjson": "`clen convert`",
}


def rows_of(sides: list[Side], data: Data, job: str) -> list[Row]:
    """The table lines of one measurement, targets judged."""
    clen = sides[0]
    out = []
    for side in sides:
        best = side.best
        ratio = None if side is clen else best.wall / clen.best.wall
        row = Row(data.entity, job, data.rows, data.variant, side.name,
                  CLEN_LABELS[job] if side is clen else side.label,
                  best.wall, best.cpu, side.peak, [p.wall for p in side.procs],
                  [p.cpu for p in side.procs],
                  [p.maxrss for p in side.procs if p.maxrss is not None],
                  ratio, side.rejects)  # fmt: skip
        least = None if ratio is None else target(job, side.name, data.rows)
        if least is not None and ratio is not None:
            row.target = f"≥ {least:.1f}"
            row.passed = ratio >= least
            if job == "partition":
                row.target += ", clen peak < 500 MB"
                row.passed = row.passed and (clen.peak or 0) < PARTITION_PEAK
        out.append(row)
    return out


@dataclass
class Memory:
    """Peak memory of a ``clen`` job at the largest size over the smallest."""

    entity: str
    job: str
    variant: str
    big_rows: int
    small_rows: int
    big_peak: int
    """The highest peak of the runs at the largest size..."""
    small_peak: int
    """...over the lowest at the smallest: the ratio errs on the side of failing."""

    @property
    def ratio(self) -> float:
        return self.big_peak / self.small_peak

    @property
    def passed(self) -> bool:
        return self.ratio <= MEMORY_FACTOR

    @property
    def result(self) -> str:
        return "PASS" if self.passed else "FAIL"


def memory_rows(rows: list[Row]) -> list[Memory]:
    """The memory targets: ``clen validate`` and ``clen convert`` peak at the largest size
    at most :data:`MEMORY_FACTOR` times their peak at the smallest (two sizes or more)."""
    out = []
    for entity, job, variant in dict.fromkeys((r.entity, r.job, r.variant) for r in rows):
        mine = {r.rows: r for r in rows if r.side == "clen" and r.peaks
                and (r.entity, r.job, r.variant) == (entity, job, variant)}  # fmt: skip
        if job not in ("validate", "convert") or len(mine) < 2:
            continue
        big, small = mine[max(mine)], mine[min(mine)]
        out.append(Memory(entity, job, variant, big.rows, small.rows, max(big.peaks),
                          min(small.peaks)))  # fmt: skip
    return out


# --------------------------------------------------------------------------- report


def _mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:,.0f} MB"


def _ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def text_table(rows: list[Row]) -> str:
    """The results as aligned text, one line per side."""
    header = ["entity", "job", "rows", "data", "side", "time", "CPU", "peak", "ratio",
              "rejects", "target", "result"]  # fmt: skip
    body = [[r.entity, r.job, f"{r.rows:,}", r.variant, r.label.replace("`", ""),
             f"{r.wall:.2f} s" if r.times else "", f"{r.cpu:.2f} s" if r.times else "",
             _mb(r.peak), _ratio(r.ratio), r.rejects, r.target, r.result]
            for r in rows]  # fmt: skip
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip()
             for x in [header, *body]]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def memory_table(memory: list[Memory]) -> str:
    """The memory targets as text, one line each."""
    return "\n".join(
        f"{m.entity}  clen {m.job}  {m.variant}: peak {_mb(m.big_peak)} at {m.big_rows:,} rows, "
        f"{_mb(m.small_peak)} at {m.small_rows:,}: {_ratio(m.ratio)} (≤ {MEMORY_FACTOR}) "
        f"{m.result}"
        for m in memory
    )


JOB_TITLES = {
    "validate": "validate CSV",
    "convert": "CSV → Parquet",
    "partition": "CSV → partitioned Parquet",
    "ndjson": "Parquet → JSON Lines",
}


@dataclass
class Results:
    """Everything one run measured."""

    rows: list[Row]
    memory: list[Memory]
    contracts: dict[str, Contract]
    setup: dict[str, float]
    """Seconds of the untimed work (generating the files, the warm-up)."""
    files: dict[tuple[str, int, str], str] = field(default_factory=dict)
    """(entity, rows, variant) → the sizes of its CSV and Parquet files."""

    @property
    def verdicts(self) -> list[bool]:
        """Every target's verdict."""
        return [r.passed for r in self.rows if r.passed is not None] + [
            m.passed for m in self.memory
        ]


def markdown(res: Results, info: dict[str, str], command: str, args: argparse.Namespace,
             total: float) -> str:  # fmt: skip
    """The section written between the markers."""
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    rows = res.rows
    verdicts = res.verdicts
    out = [
        f"Measured {now} with:",
        "",
        "```console",
        f"$ {command}",
        "```",
        "",
        f"{sum(verdicts)} of {len(verdicts)} targets pass. Sizes: "
        + ", ".join(f"{n:,}" for n in args.rows)
        + f" rows; error rate {args.error_rate} in the `errors` files; best of "
        f"{args.repeat} interleaved run(s) per side; {total / 60:.1f} min in all. Ratio: the "
        "peer's time over clen's (above 1: clen is faster). Peak RSS: the highest resident "
        "set size of the side's runs.",
    ]
    for entity in args.entities:
        k = res.contracts[entity]
        out += ["", f"### `{entity}`", ""]
        gaps = "; ".join(f"`{g.field}`: {g.what}" for g in k.gaps) or "none"
        out.append(f"Constraints no peer can express (the pattern they get instead favours "
                   f"them): {gaps}. "
                   "Rules `clen validate` also runs, and no peer does: "
                   + (", ".join(k.rules) or "none") + ".")  # fmt: skip
        for job in args.jobs:
            mine = [r for r in rows if r.entity == entity and r.job == job]
            if not mine:
                continue
            title = JOB_TITLES[job] + (f" by `{PARTITIONS[entity]}`" if job == "partition" else "")
            out += ["", f"#### `{entity}`: {title}", "",
                    "| rows | data | side | time | CPU | peak RSS | ratio | rejects | target "
                    "| result |",
                    "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
            out += [f"| {r.rows:,} | {r.variant} | {r.label} | {r.wall:.2f} s | {r.cpu:.2f} s | "
                    f"{_mb(r.peak)} | {'—' if r.ratio is None else f'**{_ratio(r.ratio)}**'} | "
                    f"{r.rejects} | {r.target} | "
                    f"{r.result} |" for r in mine]  # fmt: skip
    if res.memory:
        out += ["", "### Peak memory of `clen`, largest size over smallest", "",
                "| entity | data | command | largest | peak RSS | smallest | peak RSS | ratio "
                "| target | result |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        out += [f"| `{m.entity}` | {m.variant} | `clen {m.job}` | {m.big_rows:,} | "
                f"{_mb(m.big_peak)} | {m.small_rows:,} | {_mb(m.small_peak)} | "
                f"**{_ratio(m.ratio)}** | ≤ {MEMORY_FACTOR} | {m.result} |"
                for m in res.memory]  # fmt: skip
    out += ["", "Every run, in seconds (CPU, user + system, in brackets):", ""]
    # A word first: a list item that starts with a number is a nested numbered list.
    groups: dict[tuple[str, str, int, str], list[Row]] = {}
    for r in rows:
        if r.times:
            groups.setdefault((r.entity, r.job, r.rows, r.variant), []).append(r)
    for (entity, job, size, variant), sides in groups.items():
        runs = "; ".join(
            f"{r.label} "
            + ", ".join(f"{t:.2f} ({c:.2f})" for t, c in zip(r.times, r.cpus, strict=True))
            for r in sides
        )
        files = res.files.get((entity, size, variant), "")
        out.append(f"- `{entity}` {job}, {size:,} {variant} rows{files}: {runs}")
    out += ["", "Machine:", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    return "\n".join(out) + "\n"


PREAMBLE = "# Performance\n\nWritten by `benchmarks/peers.py` (see its docstring).\n"


def write_markdown(path: Path, body: str) -> None:
    """Replace the text between the markers in ``path``; add the section when it has none."""
    section = f"{BEGIN}\n{body}{END}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        new = head + section + rest.split(END, 1)[1].removeprefix("\n")
    elif text:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        new = PREAMBLE + "\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def machine() -> dict[str, str]:
    """run.py's description of the machine, with the peers' versions."""
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, str] = run.machine()
    info.pop("frictionless", None)
    for name in ("polars", "duckdb", "dataframely", "pandera"):
        try:
            info[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - checked at the start
            info[name] = "not installed"
    return info


# --------------------------------------------------------------------------- main


def _list(kind: type, choices: Sequence[str] | None = None) -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        items = [kind(x.strip().replace("_", "") if kind is int else x.strip())
                 for x in text.split(",") if x.strip()]  # fmt: skip
        if choices is not None:
            wrong = [x for x in items if x not in choices]
            if wrong:
                raise argparse.ArgumentTypeError(f"unknown {wrong}; choose from {list(choices)}")
        return items

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="clen_core against Polars, dataframely, pandera, DuckDB and pyarrow, "
        "every side a whole process, ratios in the same run."
    )
    p.add_argument("--rows", type=_list(int), help="sizes, comma-separated (1000000,10000000)")
    p.add_argument("--repeat", type=int, help="runs per side, the best kept (default 3)")
    p.add_argument(
        "--entities",
        type=_list(str),
        default=list(ENTITIES),
        help="entities, comma-separated (default: " + ",".join(ENTITIES) + ")",
    )
    p.add_argument(
        "--jobs",
        type=_list(str, JOBS),
        default=list(JOBS),
        help="jobs, comma-separated (default: " + ",".join(JOBS) + ")",
    )
    p.add_argument(
        "--variants",
        type=_list(str, VARIANTS),
        default=list(VARIANTS),
        help="clean files, files with injected errors, or both (default)",
    )
    p.add_argument(
        "--error-rate", type=float, help="share of invalid rows in the errors files (default 0.01)"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    p.add_argument("--keep", type=Path, help="write the data and programs here and keep them")
    p.add_argument("--quick", action="store_true",
                   help="1,000 rows, 1 run, error rate 0.05: proves the script works; exits 0 "
                   "on figures")  # fmt: skip
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.rows) < 1 or args.repeat < 1 or not 0 < args.error_rate <= 1:
        p.error("--rows and --repeat must be at least 1, --error-rate in (0, 1]")
    from clen_core.errors import ClenError
    from clen_core.model.entity import get_entity

    for entity in args.entities:
        try:
            get_entity(entity)
        except ClenError as exc:
            p.error(str(exc))
        if entity not in PARTITIONS and "partition" in args.jobs:
            p.error(f"no partition keys for {entity} (PARTITIONS): leave out the partition job")
    return args


def missing_peers() -> list[str]:
    """The peers that are not installed."""
    return [name for name in PEERS_NEEDED if importlib.util.find_spec(name) is None]


def sides_for(job: str, data: Data, k: Contract, clen: list[str], programs: dict[str, Path],
              folder: Path) -> list[Side]:  # fmt: skip
    peers = [name for name in programs if name.startswith(job + "-")]
    return [clen_side(job, data, k, clen, folder),
            *(peer_side(name, data, k, programs[name], folder) for name in peers)]  # fmt: skip


def bench(args: argparse.Namespace, folder: Path, clen: list[str]) -> Results:
    """Generate the data, measure every job, check every output."""
    contracts = {e: contract(e) for e in args.entities}
    programs: dict[str, dict[str, Path]] = {}
    (folder / "programs").mkdir(parents=True, exist_ok=True)
    for entity, k in contracts.items():
        programs[entity] = {}
        for name, source in peer_programs(k).items():
            if name.split("-", 1)[0] in args.jobs:
                path = folder / "programs" / f"{name}-{entity}.py"
                path.write_text(source, encoding="utf-8")
                programs[entity][name] = path
    setup: dict[str, float] = {}
    if not args.quick:
        # Untimed: bytecode written, every program's imports in the page cache.
        start = time.perf_counter()
        run._compile_bytecode()
        for entity, k in contracts.items():
            data, _ = generate(clen, folder, entity, 100, "errors", 0.05)
            for job in args.jobs:
                measure(sides_for(job, data, k, clen, programs[entity], folder), 1)
            _remove(data.csv)
            _remove(data.parquet)
        setup["warm-up"] = time.perf_counter() - start
    rows: list[Row] = []
    files: dict[tuple[str, int, str], str] = {}
    for size in args.rows:
        for entity, k in contracts.items():
            for variant in args.variants:
                data, took = generate(clen, folder, entity, size, variant, args.error_rate)
                setup[f"generate {entity} {size:,} {variant}"] = took
                files[entity, size, variant] = (
                    f" (CSV {_mb(data.csv.stat().st_size)}, "
                    f"Parquet {_mb(data.parquet.stat().st_size)})"
                )
                for job in args.jobs:
                    step = f"{entity} {size:,} {variant} {job}"
                    print(f"{step} ...", end=" ", flush=True)
                    start = time.perf_counter()
                    sides = sides_for(job, data, k, clen, programs[entity], folder)
                    measure(sides, args.repeat)
                    rows += rows_of(sides, data, job)
                    print(f"{time.perf_counter() - start:.1f} s", flush=True)
                if args.keep is None:
                    _remove(data.csv)
                    _remove(data.parquet)
    return Results(rows, memory_rows(rows), contracts, setup, files)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(
        ["python", "benchmarks/peers.py", *(sys.argv[1:] if argv is None else argv)]
    )
    missing = missing_peers()
    if missing:
        print(f"error: not installed: {', '.join(missing)} (pip install polars duckdb "
              "dataframely 'pandera[polars]')", file=sys.stderr)  # fmt: skip
        return 2
    started = time.perf_counter()
    clen = run._clen()
    info = machine()
    print(f"clen_core against its peers: {', '.join(args.entities)}; "
          f"{', '.join(f'{n:,}' for n in args.rows)} rows; best of {args.repeat}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="clen-peers-") as tmp:
        folder = Path(tmp) if args.keep is None else args.keep
        folder.mkdir(parents=True, exist_ok=True)
        try:
            res = bench(args, folder, clen)
        except BenchError as exc:
            print(f"\nerror: {exc}", file=sys.stderr)
            return 2
    total = time.perf_counter() - started
    print()
    print(text_table(res.rows))
    if res.memory:
        print()
        print(memory_table(res.memory))
    write_markdown(args.out, markdown(res, info, command, args, total))
    print(f"\n{total / 60:.1f} min in all; written to {args.out}")
    if args.json is not None:
        results = {
            "command": command, "machine": info, "minutes": total / 60, "setup": res.setup,
            "rows": [asdict(r) | {"result": r.result} for r in res.rows],
            "memory": [asdict(m) | {"ratio": m.ratio, "result": m.result} for m in res.memory],
        }  # fmt: skip
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if args.quick:
        return 0
    return 0 if all(res.verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
