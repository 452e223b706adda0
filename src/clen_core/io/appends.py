"""What makes an append to a partitioned dataset safe to retry: batch identities and keys.

:func:`~clen_core.io.partitioned.write_partitioned` calls on this module; it is
a module of its own so that the dataset writer stays about files and folders.

- **Batch identity.** Every write that adds rows records a *batch* in the
  dataset, in the same atomic swap as its rows: a Parquet file of no rows,
  ``_clen_batch-….parquet``, in the folder of the first file the batch wrote,
  whose footer metadata ``clen_core.batch`` holds a JSON object: ``batch_id``,
  ``content`` (the content hash), ``appended`` (UTC time), ``rows``
  (written), ``skipped`` and ``files`` (relative to the dataset's folder). A
  name starting with ``_`` is not data to clen_core, Spark or pyarrow; to
  readers that list every file (DuckDB's ``**/*.parquet``, Polars given the
  folder) it is a file of the dataset's schema with no rows, at the depth of
  the others, so their results do not change (a plain text manifest would make
  Polars refuse the folder). :func:`dataset_batches` lists them. The identity
  is the caller's ``batch_id`` when given, else the content hash: SHA-256 over
  the canonical Arrow IPC of the
  rows given (dictionaries decoded, no metadata, cut into pieces of 65,536
  rows whatever the batches), computed while the rows stream to the writer.
  The same rows from the same source give the same hash; the same values from
  another format may not (a null's hidden bytes differ), which the key check
  below still catches. A write of no rows records nothing.
- **A batch seen before** (``if_batch_exists``): ``"error"`` (default)
  refuses the write with a :class:`~clen_core.errors.DuplicateKeyError` naming
  the batch and when it was appended; ``"skip"`` makes it a no-op;
  ``"append"`` writes it again. A given ``batch_id`` is checked before any row
  is read; a content hash once the last row is read, before the new version is
  swapped in.
- **Duplicate keys** (``on_duplicate_key``): rows whose entity key is already
  in the dataset or repeats a row written before by the same call are
  ``"error"``: refused (the counts, and the first keys, named once every row is
  read; nothing is written after the first one); ``"skip"``: left out and
  counted (``read == written + skipped + rejected``); ``"keep"``: written
  anyway. The default is ``"error"`` for an append and ``"keep"`` for a new
  dataset (a conversion writes its file as it is; ``clen validate`` reports
  the file's duplicate keys). The existing keys are never all in Python: an
  embedded DuckDB reads the key columns only of the existing files into a
  table held within ``KEY_CHECK_MEMORY`` (spilling to a temporary folder beside
  the dataset), and each batch's keys are joined against it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core._version import __version__
from clen_core.errors import ArgumentError, DuplicateKeyError
from clen_core.io import parquet
from clen_core.io.formats import FormatError
from clen_core.io.readwrite import WriteResult
from clen_core.model.entity import EntityInfo
from clen_core.schema.arrow import arrow_schema

__all__ = [
    "BATCH_PREFIX",
    "KEY_CHECK_MEMORY",
    "Batch",
    "DatasetWriteResult",
    "IfBatchExists",
    "OnDuplicateKey",
    "dataset_batches",
]

BATCH_PREFIX = "_clen_batch-"
"""Name prefix of the files that record a dataset's batches (Parquet files of no rows)."""
BATCH_META = b"clen_core.batch"
"""Footer metadata key of a batch file: the batch as a JSON object."""
KEY_CHECK_MEMORY = "256MB"
"""DuckDB's memory limit while checking keys; past it, its tables spill to disk."""
_HASH_ROWS = 65_536
_SHOWN_KEYS = 5

OnDuplicateKey: TypeAlias = Literal["error", "skip", "keep"]
"""What rows whose key is already in the dataset do: refuse the write, stay out, or go in."""
IfBatchExists: TypeAlias = Literal["error", "skip", "append"]
"""What a batch appended before does: refuse the write, do nothing, or go in again."""
_DUPLICATE_POLICIES = ("error", "skip", "keep")
_BATCH_POLICIES = ("error", "skip", "append")


@attrs.frozen(kw_only=True)
class Batch:
    """One write recorded in a dataset (a :data:`BATCH_PREFIX` file)."""

    batch_id: str
    """Its identity: the caller's ``batch_id``, else :attr:`content`."""
    content: str
    """``sha256:`` and the hash of the rows given (see the module docs)."""
    appended: str
    """When it was written (ISO 8601, UTC)."""
    rows: int
    """Rows written."""
    skipped: int
    """Rows given but not written: their key was already there (``on_duplicate_key="skip"``)."""
    files: tuple[str, ...]
    """The files it added, relative to the dataset's folder."""

    def to_dict(self) -> dict[str, Any]:
        """The batch as a JSON object (what its file's footer holds)."""
        out = attrs.asdict(self)
        out["files"] = list(self.files)
        out["clen_core"] = __version__
        return out


@attrs.frozen(kw_only=True)
class DatasetWriteResult(WriteResult):
    """What :func:`~clen_core.io.partitioned.write_partitioned` did: the files and rows
    written, and what was left out (``given == rows + skipped``)."""

    batch_id: str | None = None
    """The identity the batch was recorded under (None: no rows, nothing recorded)."""
    skipped: int = 0
    """Rows given but not written: a key already there (``on_duplicate_key="skip"``), or
    every row of a batch appended before (``if_batch_exists="skip"``; none when the batch
    was a given ``batch_id``, known before any row was read)."""
    already: Batch | None = None
    """The earlier batch of the same identity, when this write was a no-op for it."""


def _check_policies(on_duplicate_key: str, if_batch_exists: str) -> None:
    if on_duplicate_key not in _DUPLICATE_POLICIES:
        raise ArgumentError(
            f"on_duplicate_key must be one of {', '.join(_DUPLICATE_POLICIES)}, "
            f"got {on_duplicate_key!r}"
        )
    if if_batch_exists not in _BATCH_POLICIES:
        raise ArgumentError(
            f"if_batch_exists must be one of {', '.join(_BATCH_POLICIES)}, got {if_batch_exists!r}"
        )


def _check_batch_id(batch_id: str | None) -> None:
    if batch_id is None:
        return
    if not isinstance(batch_id, str) or not batch_id.strip() or len(batch_id) > 200:
        raise ArgumentError(f"batch_id must be text of 1 to 200 characters, got {batch_id!r}")
    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in batch_id):
        raise ArgumentError(f"batch_id {batch_id!r} holds a control character")


# --------------------------------------------------------------------------- batch records


def dataset_batches(path: str | Path) -> list[Batch]:
    """The batches written to the dataset folder ``path``, oldest first (none: ``[]``).

    A batch file that does not hold a batch is a
    :class:`~clen_core.io.formats.FormatError` naming it.
    """
    return sorted(map(_read_batch, _batch_files(Path(path))), key=lambda b: b.appended)


def _batch_files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        out += [
            Path(dirpath, name)
            for name in sorted(filenames)
            if name.startswith(BATCH_PREFIX) and name.endswith(".parquet")
        ]
    return out


def _read_batch(file: Path) -> Batch:
    try:
        item = json.loads((parquet.read_schema(file).metadata or {})[BATCH_META])
        return Batch(
            batch_id=str(item["batch_id"]),
            content=str(item["content"]),
            appended=str(item["appended"]),
            rows=int(item["rows"]),
            skipped=int(item["skipped"]),
            files=tuple(str(f) for f in item["files"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(
            str(file),
            f"not a batch record ({type(exc).__name__}: {exc}); expected {BATCH_META.decode()} "
            "metadata: a JSON object with batch_id, content, appended, rows, skipped and files",
        ) from None


def _find(batches: Sequence[Batch], batch_id: str) -> Batch | None:
    return next((b for b in batches if b.batch_id == batch_id), None)


def _refuse_batch(where: str, known: Batch) -> DuplicateKeyError:
    return DuplicateKeyError(
        f"{where}: batch {known.batch_id} was already appended on {known.appended} "
        f"({known.rows:,} rows); if_batch_exists='skip' (--if-batch-exists skip) makes a "
        "retry a no-op, 'append' writes it again"
    )


def _record(root: Path, folder: Path, batch: Batch, info: EntityInfo, schema: pa.Schema) -> Path:
    """Record ``batch`` in the new version ``root``: a file of no rows in ``folder``
    (relative to ``root``), written by the Parquet writer of every clen_core file."""
    meta = dict(schema.metadata or {})
    meta[BATCH_META] = json.dumps(batch.to_dict(), ensure_ascii=False).encode("utf-8")
    stamp = batch.appended.replace(":", "").replace("-", "")
    file = root / folder / f"{BATCH_PREFIX}{stamp}-{os.urandom(4).hex()}.parquet"
    with open(file, "wb") as sink:
        parquet.open_writer(sink, info, schema.with_metadata(meta)).close()
        sink.flush()
        os.fsync(sink.fileno())
    return file


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- content hash


def _decoded(t: pa.DataType) -> pa.DataType:
    """``t`` with dictionaries decoded (at any depth): the same values, one encoding."""
    if pa.types.is_dictionary(t):
        return _decoded(t.value_type)
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_decoded(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_decoded(t.value_type)))
    if pa.types.is_map(t):
        return pa.map_(_decoded(t.key_type), t.item_field.with_type(_decoded(t.item_type)))
    return t


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(_decoded(f.type)).remove_metadata() for f in schema])


class _Hasher:
    """SHA-256 over the rows in pieces of ``_HASH_ROWS``: the same rows, the same hash,
    however they are cut into batches (a reader's blocks, a caller's chunks)."""

    def __init__(self, schema: pa.Schema) -> None:
        import hashlib  # here: importing clen_core (every command) would load OpenSSL

        self.schema = _plain_schema(schema)
        self.sha = hashlib.sha256(self.schema.serialize().to_pybytes())
        self.pending: list[pa.RecordBatch] = []
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        plain = pa.RecordBatch.from_arrays(
            [c.cast(f.type) for c, f in zip(batch.columns, self.schema, strict=True)],
            schema=self.schema,
        )
        self.pending.append(plain)
        self.rows += plain.num_rows
        while self.rows >= _HASH_ROWS:
            self._piece(_HASH_ROWS)

    def _piece(self, n: int) -> None:
        table = pa.Table.from_batches(self.pending, schema=self.schema)
        for column in table.slice(0, n).combine_chunks().columns:
            values = column.chunk(0) if column.num_chunks else pa.array([], column.type)
            # The bytes under a null, and the unused bits of a bitmap's last byte, are
            # anything a producer left there: hashed are which values are missing (one
            # byte each), then the others alone, booleans as bytes too.
            if values.null_count:
                valid = pc.is_valid(values)
                self._update(valid.cast(pa.int8()))
                values = values.filter(valid)
            self._update(values.cast(pa.int8()) if pa.types.is_boolean(values.type) else values)
        self.pending = table.slice(n).to_batches()
        self.rows -= n

    def _update(self, values: pa.Array) -> None:
        self.sha.update(pa.RecordBatch.from_arrays([values], names=["v"]).serialize())

    def digest(self) -> str:
        if self.rows:
            self._piece(self.rows)
        return "sha256:" + self.sha.hexdigest()


# --------------------------------------------------------------------------- keys


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Keys:
    """The keys already written (in the dataset, and by this call so far), in DuckDB."""

    def __init__(self, info: EntityInfo, schema: pa.Schema, files: Sequence[Path], scratch: Path):
        try:
            import duckdb
        except ImportError:  # pragma: no cover - duckdb is installed with clen_core
            raise ArgumentError(
                "on_duplicate_key='error' or 'skip' needs duckdb (pip install duckdb); "
                "on_duplicate_key='keep' checks nothing"
            ) from None
        self.names = info.key
        self.types = [_decoded(schema.field(k).type) for k in self.names]
        scratch.mkdir(exist_ok=True)
        # No insertion order to keep (the keys are a set): DuckDB then streams and spills
        # within the limit instead of holding rows in order.
        self.con = duckdb.connect(
            config={
                "memory_limit": KEY_CHECK_MEMORY,
                "temp_directory": str(scratch),
                "preserve_insertion_order": False,
            }
        )
        self.cols = ", ".join(_quoted(k) for k in self.names)
        self.on = " AND ".join(f"b.{_quoted(k)} = s.{_quoted(k)}" for k in self.names)
        empty = pa.table({k: pa.array([], t) for k, t in zip(self.names, self.types, strict=True)})
        self.con.register("clen_empty", empty)
        self.con.execute(
            f"CREATE TABLE seen AS SELECT {self.cols}, 0::TINYINT AS n FROM clen_empty"
        )
        self.con.unregister("clen_empty")
        if files:
            listed = "[" + ", ".join(_text(str(f)) for f in files) + "]"
            # The key columns only, of every file: DuckDB reads no other column.
            self.con.execute(
                f"INSERT INTO seen SELECT {self.cols}, 0 FROM read_parquet({listed}, "
                "hive_partitioning = false, union_by_name = true)"
            )

    def check(self, batch: pa.RecordBatch) -> tuple[pa.Table, list[int], list[int]]:
        """This batch's keys (with ``_i``, the row), and its rows whose key is in the dataset
        and those repeating a key this call wrote (or an earlier row of the batch)."""
        keys = pa.table(
            [batch.column(k).cast(t) for k, t in zip(self.names, self.types, strict=True)]
            + [pa.array(range(batch.num_rows), pa.int64())],
            names=[*self.names, "_i"],
        )
        self.con.register("clen_b", keys)
        try:
            hits = self.con.execute(
                f"SELECT b._i, min(s.n) FROM clen_b b JOIN seen s ON {self.on} GROUP BY b._i"
            ).fetchall()
            repeats = self.con.execute(
                "SELECT _i FROM (SELECT _i, row_number() OVER "
                f"(PARTITION BY {self.cols} ORDER BY _i) AS r FROM clen_b) WHERE r > 1"
            ).fetchall()
        finally:
            self.con.unregister("clen_b")
        there = sorted(i for i, n in hits if n == 0)
        known = set(there)
        again = sorted(({i for i, n in hits if n == 1} | {i for (i,) in repeats}) - known)
        return keys, there, again

    def add(self, keys: pa.Table) -> None:
        """Remember these keys as written."""
        if keys.num_rows:
            self.con.register("clen_k", keys)
            try:
                self.con.execute(f"INSERT INTO seen SELECT {self.cols}, 1 FROM clen_k")
            finally:
                self.con.unregister("clen_k")

    def close(self) -> None:
        self.con.close()


def _shown(keys: pa.Table, rows: Iterable[int], names: Sequence[str]) -> list[str]:
    taken = keys.take(pa.array(list(rows), pa.int64())).select(list(names)).to_pylist()
    return [", ".join(f"{k}={v!r}" for k, v in row.items()) for row in taken]


# --------------------------------------------------------------------------- the flow


class _AlreadyAppended(Exception):
    """The batch was appended before and ``if_batch_exists="skip"``: undo, quietly."""

    def __init__(self, known: Batch, given: int) -> None:
        super().__init__(known.batch_id)
        self.known, self.given = known, given


class _Flow:
    """The rows on their way to the writer: hashed, their keys checked (see the module docs)."""

    def __init__(
        self,
        *,
        info: EntityInfo,
        where: str,
        known: Sequence[Batch],
        batch_id: str | None,
        on_duplicate_key: OnDuplicateKey,
        if_batch_exists: IfBatchExists,
        existing: Sequence[Path],
        scratch: Path,
    ) -> None:
        self.info, self.where, self.known = info, where, known
        self.batch_id, self.policy, self.if_exists = batch_id, on_duplicate_key, if_batch_exists
        schema = arrow_schema(info)  # the rows' schema: the entity's, without derived keys
        self.hasher = _Hasher(schema)
        self.keys = None
        if on_duplicate_key != "keep":
            with self._duckdb_said():
                self.keys = _Keys(info, schema, existing, scratch)
        self.given = self.written = 0
        self.there = self.again = 0
        self.first: list[str] = []

    def batches(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The rows to write; raises at the end when the batch or its keys are refused."""
        try:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                self.given += batch.num_rows
                self.hasher.add(batch)
                out = self._checked(batch)
                if out is not None and out.num_rows:
                    self.written += out.num_rows
                    yield out
            self._end()
        finally:
            self.close()

    def close(self) -> None:
        """Let go of the key check (its DuckDB connection); done again, nothing happens."""
        if self.keys is not None:
            self.keys.close()
            self.keys = None

    def _checked(self, batch: pa.RecordBatch) -> pa.RecordBatch | None:
        if self.keys is None:
            return batch
        with self._duckdb_said():
            keys, there, again = self.keys.check(batch)
        bad = sorted({*there, *again})
        self.there += len(there)
        self.again += len(again)
        if bad and len(self.first) < _SHOWN_KEYS:
            self.first += _shown(keys, bad[: _SHOWN_KEYS - len(self.first)], self.info.key)
        if bad:
            good = pc.invert(pc.is_in(keys.column("_i"), value_set=pa.array(bad, pa.int64())))
            keys = keys.filter(good)
            batch = batch.filter(good)
        with self._duckdb_said():
            self.keys.add(keys.drop_columns(["_i"]))
        if self.policy == "error" and (self.there or self.again):
            return None  # refused at the end, with every count: write nothing more
        return batch

    @contextlib.contextmanager
    def _duckdb_said(self) -> Iterator[None]:
        """DuckDB's failure (out of memory, a file it cannot read) as one line naming
        the dataset, not a traceback."""
        try:
            import duckdb

            errors: tuple[type[Exception], ...] = (duckdb.Error,)
        except ImportError:  # pragma: no cover - _Keys says duckdb is missing
            errors = ()
        try:
            yield
        except errors as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FormatError(
                self.where,
                f"the duplicate-key check failed ({first}); on_duplicate_key='keep' "
                "(--on-duplicate-key keep) writes without it",
            ) from None

    def _end(self) -> None:
        if self.given and self.if_exists != "append":
            known = _find(self.known, self.identity)
            if known is not None:
                if self.if_exists == "skip":
                    raise _AlreadyAppended(known, self.given)
                raise _refuse_batch(self.where, known)
        if self.policy == "error" and (self.there or self.again):
            raise DuplicateKeyError(
                f"{self.where}: cannot append: {self._counts()} (first: "
                f"{'; '.join(self.first)}); on_duplicate_key='skip' (--on-duplicate-key skip) "
                "leaves them out, 'keep' writes them anyway"
            )

    def _counts(self) -> str:
        parts = []
        if self.there:
            parts.append(
                f"{self.there:,} row(s) of {self.given:,} have a key already in the dataset"
            )
        if self.again:
            parts.append(f"{self.again:,} repeat a key of an earlier row given")
        return " and ".join(parts)

    @property
    def identity(self) -> str:
        """The batch's identity: the caller's, else the content hash (once every row is read)."""
        return self.batch_id if self.batch_id is not None else self.hasher.digest()

    @property
    def skipped(self) -> int:
        """Rows given and not written."""
        return self.given - self.written

    def batch(self, files: Sequence[str]) -> Batch:
        """What to record of the batch, once written."""
        content = self.hasher.digest()
        return Batch(
            batch_id=self.batch_id if self.batch_id is not None else content,
            content=content,
            appended=_now(),
            rows=self.written,
            skipped=self.skipped,
            files=tuple(files),
        )
