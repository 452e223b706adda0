"""Duplicate keys (DUP-001) and references (REF-001) over more rows than memory holds.

The two rules compare every row of an entity with every other (a key seen
before, a key in another entity), so the in-memory rules hold the key and
reference columns of every row. :class:`WholeTable` spools them instead:
each entity's parts (streamed batches) go to an Arrow IPC file on disk as they
come, or an entity is a list of Parquet files read in place; at the end an
embedded DuckDB, under a ``memory_limit`` and with a temporary directory it
spills to, groups the keys and anti-joins the references. The findings are
those of ``rules.builtin.duplicate_keys`` and ``missing_references`` on the
concatenated tables, in the same order, with the same messages and the same
use of the report's room (``Report.room_for``, ``Report.count``):
``tests/test_wholetable.py`` holds the two to each other.

Cheap cases stay cheap: an entity whose one-field key is strictly increasing
across all its parts (files written in key order) has no duplicate, and DuckDB
is then neither queried nor imported.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.model.entity import EntityInfo, get_entity
from clen_core.model.fields import ListShape
from clen_core.rules.context import ROW_COLUMN, Running
from clen_core.rules.report import Finding, Report
from clen_core.schema.arrow import arrow_schema, int_range

if TYPE_CHECKING:
    import duckdb

__all__ = ["DEFAULT_MEMORY_LIMIT", "WHOLE_TABLE_RULES", "WholeTable", "whole_table_fields"]

DEFAULT_MEMORY_LIMIT = "128MB"
"""DuckDB's ``memory_limit`` for the queries: past it, DuckDB spills to its temporary
directory rather than grow."""

WHOLE_TABLE_RULES = ("DUP-001", "REF-001")
"""The rules :class:`WholeTable` computes out of memory."""

_THREADS = 2  # DuckDB's threads: measured with DEFAULT_MEMORY_LIMIT on ten million keys

_POS = "_pos"  # 0-based position of a row among all of its entity's rows, in source order


def whole_table_fields(info: EntityInfo, *, entities: Sequence[str] | None = None) -> list[str]:
    """The fields of ``info``'s rows the two rules read: the key, and the reference fields
    (those whose target is among ``entities``; default: only references to ``info`` itself,
    which is what a validation of one entity can check)."""
    targets = {info.name} if entities is None else set(entities)
    names = list(info.key)
    names += [f.name for f in info.references if f.spec.ref in targets and f.name not in names]
    return names


class WholeTable:
    """The key and reference columns of some entities, on disk, and the DUP-001 and
    REF-001 findings over them.

    :meth:`add` takes each entity's rows part by part, in source order (an Arrow
    table holding at least :func:`whole_table_fields`, with the ``_row`` column
    when there is one); :meth:`add_parquet` takes an entity as Parquet files
    instead. :meth:`duplicate_keys` and :meth:`missing_references` report as
    the built-in rules do on the concatenation. ``memory_limit``: DuckDB's
    (e.g. ``"256MB"``); ``directory``: where the spool and DuckDB's spill files
    go (default: a new temporary folder, removed by :meth:`close`).
    """

    def __init__(
        self, *, memory_limit: str = DEFAULT_MEMORY_LIMIT, directory: str | Path | None = None
    ) -> None:
        # Imported here: tempfile loads hashlib, which a command's start does without.
        import shutil
        import tempfile

        self.memory_limit = memory_limit
        """DuckDB's memory limit."""
        self._dir = Path(tempfile.mkdtemp(prefix="clen-wholetable-", dir=directory))
        # A forgotten close() must not leave the spool behind.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self._rows: dict[str, int] = {}
        self._parquet: dict[str, tuple[list[Path], bool]] = {}
        # Per entity with a one-field key: the last key so far, while keys only increase.
        self._last: dict[str, Any] = {}
        self._unordered: set[str] = set()
        self._db: duckdb.DuckDBPyConnection | None = None

    @property
    def entities(self) -> tuple[str, ...]:
        """The entities added, in the order first added."""
        return tuple(dict.fromkeys([*self._rows, *self._parquet]))

    def rows(self, entity: str) -> int:
        """The rows of ``entity`` added so far (0 for Parquet files, not counted)."""
        return self._rows.get(entity, 0)

    def add(self, entity: str, part: pa.Table) -> None:
        """Spool the next rows of ``entity`` (after those added before)."""
        info = get_entity(entity)
        if info.name in self._parquet:
            raise ValueError(f"{info.name} was added as Parquet files: add its rows one way")
        start = self._rows.get(info.name, 0)
        self._rows[info.name] = start + part.num_rows
        self._track_order(info, part)
        names = [n for n in part.column_names if n != ROW_COLUMN]
        columns = {n: _plain(part.column(n)) for n in names}
        rows = (
            part.column(ROW_COLUMN)
            if ROW_COLUMN in part.column_names
            else int_range(start + 1, start + part.num_rows + 1)
        )
        columns[ROW_COLUMN] = pc.cast(rows, pa.int64())
        columns[_POS] = int_range(start, start + part.num_rows)
        table = pa.table(columns)
        writer = self._writers.get(info.name)
        if writer is None:
            self._schemas[info.name] = table.schema
            writer = self._writers[info.name] = pa.ipc.new_stream(
                str(self._dir / f"{info.name}.arrows"), table.schema
            )
        writer.write_table(table.cast(self._schemas[info.name]))

    def add_parquet(self, entity: str, files: Sequence[str | Path], *, hive: bool = True) -> None:
        """Take ``entity``'s rows from Parquet files, read in place: rows in the order of
        ``files``, then of each file; ``hive``: columns may come from ``name=value``
        folders. The rows are taken as valid (as clen_core writes them), and numbered
        1, 2, ... across the files."""
        info = get_entity(entity)
        if info.name in self._rows:
            raise ValueError(f"{info.name} was added as batches: add its rows one way")
        self._parquet[info.name] = ([Path(f) for f in files], hive)
        self._unordered.add(info.name)

    def _track_order(self, info: EntityInfo, part: pa.Table) -> None:
        if info.name in self._unordered or not part.num_rows:
            return
        if len(info.key) != 1:
            self._unordered.add(info.name)
            return
        keys = part.column(info.key[0])
        if pa.types.is_dictionary(keys.type) or keys.null_count:
            self._unordered.add(info.name)
            return
        keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
        last = self._last.get(info.name)
        increasing = (last is None or pc.less(last, keys[0]).as_py()) and (
            len(keys) < 2 or pc.all(pc.less(keys[:-1], keys[1:])).as_py()
        )
        if increasing:
            self._last[info.name] = keys[-1]
        else:
            self._unordered.add(info.name)

    # ------------------------------------------------------------------ the rules

    def duplicate_keys(self, rule: Running, report: Report) -> None:
        """DUP-001 on every entity added: each row after the first (in source order) with
        the same key, reported as ``rules.builtin.duplicate_keys`` reports it."""
        for name in self.entities:
            info = get_entity(name)
            if name not in self._unordered:
                continue  # keys strictly increasing: none repeats
            table = self._table(name)
            keys = ", ".join(_q(k) for k in info.key)
            on = " AND ".join(f"t.{_q(k)} IS NOT DISTINCT FROM g.{_q(k)}" for k in info.key)
            db = self._connect()
            # The groups of repeated keys only: usually few, so the join below is small.
            db.sql(
                f"CREATE OR REPLACE TEMP TABLE repeated AS SELECT {keys}, min({_POS}) AS first, "
                f"count(*) AS n FROM {table} GROUP BY ALL HAVING count(*) > 1"
            )
            n = _scalar(db, "SELECT coalesce(sum(n - 1), 0) FROM repeated")
            field = info.key[0] if len(info.key) == 1 else None
            message = f"duplicate {'/'.join(info.key)}: an earlier record has the same key"
            kept = self._room(rule, report, n)
            if kept:
                carried = ", ".join(f"t.{_q(k)}" for k in [_POS, ROW_COLUMN, *info.key])
                found = _arrow(
                    db,
                    f"SELECT {carried} FROM {table} t JOIN repeated g ON {on} "
                    f"WHERE t.{_POS} <> g.first ORDER BY t.{_POS} LIMIT {kept}",
                )
                values = found.column(field).to_pylist() if field else [None] * kept
                for key, row, value in zip(_keys(info, found), _ints(found), values, strict=True):
                    report.add(Finding(rule.id, rule.severity, name, key, row, field, value,
                                       message))  # fmt: skip
            db.sql("DROP TABLE repeated")

    def missing_references(self, rule: Running, report: Report) -> None:
        """REF-001 on every entity added: each reference (an item of a list reference) to
        a key not among the rows of its target entity, when that entity was added too."""
        added = set(self.entities)
        for name in self.entities:
            info = get_entity(name)
            for f in info.references:
                target = f.spec.ref
                assert target is not None
                if target not in added or len(get_entity(target).key) != 1:
                    continue  # as in memory: only when the target is part of the validation
                self._reference(rule, report, info, f.name, target, isinstance(f.shape, ListShape))

    def _reference(self, rule: Running, report: Report, info: EntityInfo, field: str,
                   target: str, many: bool) -> None:  # fmt: skip
        db = self._connect()
        source, keys = self._table(info.name), self._table(target)
        (key,) = get_entity(target).key
        carried = ", ".join(_q(k) for k in [_POS, ROW_COLUMN, *info.key])
        if many:
            # One row per item, in list order: unnest and its subscripts line up.
            items = (
                f"SELECT {carried}, unnest({_q(field)}) AS item, "
                f"generate_subscripts({_q(field)}, 1) AS i FROM {source}"
            )
        else:
            items = f"SELECT {carried}, {_q(field)} AS item, 1 AS i FROM {source}"
        missing = (
            f"FROM ({items}) s WHERE s.item IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {keys} k WHERE k.{_q(key)} = s.item)"
        )
        n = _scalar(db, f"SELECT count(*) {missing}")
        if not n:
            return
        kept = self._room(rule, report, n)
        if not kept:
            return
        found = _arrow(db, f"SELECT s.* {missing} ORDER BY s.{_POS}, s.i LIMIT {kept}")
        message = f"no {target} with this key in the dataset"
        item_type = arrow_schema(info.name).field(field).type
        if many:
            item_type = item_type.value_type
        values = pc.cast(found.column("item"), _plain_type(item_type)).to_pylist()
        for k, row, value in zip(_keys(info, found), _ints(found), values, strict=True):
            report.add(Finding(rule.id, rule.severity, info.name, k, row, field, value, message))

    @staticmethod
    def _room(rule: Running, report: Report, n: int) -> int:
        # As Context does: the first findings while there is room, every one counted.
        if not n:
            return 0
        kept = min(n, report.room_for(rule.severity))
        report.count(rule.id, rule.severity, n - kept)
        return kept

    # ------------------------------------------------------------------ DuckDB

    def _connect(self) -> duckdb.DuckDBPyConnection:
        if self._db is not None:
            return self._db
        import duckdb  # only when a query is needed: it takes 0.1 s to import

        for writer in self._writers.values():
            writer.close()
        # A database file rather than memory: what the memory limit does not hold goes to disk.
        db = duckdb.connect(str(self._dir / "whole.duckdb"))
        spill = self._dir / "spill"
        spill.mkdir(exist_ok=True)
        db.sql(f"SET memory_limit = '{self.memory_limit}'")
        # The limit is shared by DuckDB's threads, each pinning its own blocks: a thread per
        # core of a large machine would not fit in it (1 thread in 32 MB already does not).
        db.sql(f"SET threads = {_THREADS}")
        db.sql(f"SET temp_directory = '{_text(str(spill))}'")
        db.sql("SET preserve_insertion_order = false")
        self._db = db
        return db

    def _table(self, entity: str) -> str:
        """The name of a DuckDB table of ``entity``'s spooled rows, made once."""
        db = self._connect()
        name = _q(f"e_{entity}")
        made = {r[0] for r in db.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        if f"e_{entity}" in made:
            return name
        if entity in self._parquet:
            files, hive = self._parquet[entity]
            listed = ", ".join(f"'{_text(str(p))}'" for p in files)
            fields = whole_table_fields(get_entity(entity), entities=self.entities)
            wanted = ", ".join(_q(c) for c in fields)
            # Source order: the files as listed, each file's rows in order.
            order = f"list_position([{listed}], filename), file_row_number"
            db.sql(
                f"CREATE TABLE {name} AS SELECT {wanted}, "
                f"row_number() OVER (ORDER BY {order}) - 1 AS {_POS}, "
                f"row_number() OVER (ORDER BY {order}) AS {_q(ROW_COLUMN)} "
                f"FROM read_parquet([{listed}], hive_partitioning = {str(hive).lower()}, "
                "filename = true, file_row_number = true)"
            )
            return name
        with pa.OSFile(str(self._dir / f"{entity}.arrows")) as spool:
            reader = pa.ipc.open_stream(spool)
            db.register("spooled", reader)
            try:
                db.sql(f"CREATE TABLE {name} AS SELECT * FROM spooled")
            finally:
                db.unregister("spooled")
        return name

    def close(self) -> None:
        """Close DuckDB and remove the spool and spill files."""
        for writer in self._writers.values():
            with contextlib.suppress(pa.ArrowException, OSError):
                writer.close()
        self._writers.clear()
        if self._db is not None:
            self._db.close()
            self._db = None
        self._cleanup()

    def __enter__(self) -> WholeTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return value.replace("'", "''")


def _scalar(db: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = db.sql(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _arrow(db: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    result = db.sql(sql)
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    table: pa.Table = fetch()
    return table


def _ints(found: pa.Table) -> Iterator[int]:
    return iter(found.column(ROW_COLUMN).to_pylist())


def _keys(info: EntityInfo, found: pa.Table) -> list[str]:
    schema = arrow_schema(info.name)
    parts = [
        pc.cast(found.column(k), _plain_type(schema.field(k).type)).to_pylist() for k in info.key
    ]
    return [info.format_key(p[0] if len(p) == 1 else tuple(p)) for p in zip(*parts, strict=True)]


def _plain_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # An IPC stream cannot change a dictionary between batches: spool the values.
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column
