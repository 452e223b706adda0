"""A whole dataset: one collection per entity, keyed by ID, references resolvable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, overload

from clen_core.errors import DuplicateKeyError
from clen_core.model import _html
from clen_core.model.entity import EntityInfo, get_entity

__all__ = ["Dataset", "DuplicateKeyError", "set_arrow_converter"]

E = TypeVar("E")

_to_arrow: Callable[[list[Any], str], Any] | None = None
"""Objects of one entity to an Arrow table: the schema floor's ``to_arrow``, above this one."""


def set_arrow_converter(convert: Callable[[list[Any], str], Any]) -> None:
    """Install what :meth:`Dataset.to_arrow` converts with (``clen_core.schema.arrow`` does,
    when it is imported: the model does not import the floors above it)."""
    global _to_arrow
    _to_arrow = convert


class Dataset:
    """Records of any registered entities, one collection per entity, keyed by ID.

    Keys are unique within an entity (adding a second record with the same key
    raises :class:`DuplicateKeyError`); a file with duplicate IDs is a
    validation matter (rule ``DUP-001``), not a dataset.
    """

    __slots__ = ("_tables",)

    def __init__(self, objects: Iterable[object] = ()) -> None:
        self._tables: dict[str, dict[Any, object]] = {}
        self.extend(objects)

    def add(self, obj: object) -> None:
        """Add one entity object."""
        info = get_entity(obj)
        table = self._tables.setdefault(info.name, {})
        key = info.key_of(obj)
        if key in table:
            raise DuplicateKeyError(
                f"{info.name} {info.format_key(key)!r} is already in the dataset"
            )
        table[key] = obj

    def extend(self, objects: Iterable[object]) -> None:
        """Add many entity objects."""
        for obj in objects:
            self.add(obj)

    @overload
    def __getitem__(self, entity: type[E]) -> Mapping[Any, E]: ...
    @overload
    def __getitem__(self, entity: str) -> Mapping[Any, Any]: ...
    def __getitem__(self, entity: type[Any] | str) -> Mapping[Any, Any]:
        """The records of one entity (by name or class), keyed by their key."""
        return MappingProxyType(self._tables.get(get_entity(entity).name, {}))

    def get(self, entity: type[Any] | str, key: Any) -> Any:
        """The record of ``entity`` with ``key``, or ``None``."""
        return self._tables.get(get_entity(entity).name, {}).get(key)

    def resolve(self, obj: object, field: str) -> Any:
        """The record(s) that ``obj.field`` refers to (``None`` where missing).

        A reference field holding a list resolves to a tuple, item by item.
        """
        info = get_entity(obj)
        target = info.field(field).spec.ref
        if target is None:
            raise ValueError(f"{info.name}.{field} is not a reference")
        value = getattr(obj, field)
        if isinstance(value, tuple):
            return tuple(self.get(target, v) for v in value)
        return None if value is None else self.get(target, value)

    @property
    def entities(self) -> tuple[EntityInfo, ...]:
        """The entities that have records, in the order they were first added."""
        return tuple(get_entity(name) for name, t in self._tables.items() if t)

    def records(self, entity: type[E] | str) -> list[E]:
        """The records of one entity, in insertion order."""
        return list(self[entity].values())

    def counts(self) -> dict[str, int]:
        """Number of records per entity."""
        return {name: len(t) for name, t in self._tables.items() if t}

    def to_arrow(self, entity: type[Any] | str) -> Any:
        """The records of one entity as a ``pyarrow.Table`` in the entity's Arrow schema
        (:func:`clen_core.arrow_schema`), in insertion order; empty when it has none."""
        if _to_arrow is None:  # pragma: no cover - clen_core's import installs it
            raise RuntimeError("clen_core.schema.arrow is not loaded: import clen_core first")
        return _to_arrow(self.records(entity), get_entity(entity).name)

    def __iter__(self) -> Iterator[object]:
        for table in self._tables.values():
            yield from table.values()

    def __len__(self) -> int:
        return sum(len(t) for t in self._tables.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return {k: v for k, v in self._tables.items() if v} == {
            k: v for k, v in other._tables.items() if v
        }

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"Dataset({inner})"

    def _repr_html_(self) -> str:
        counts = self.counts()
        summary = _html.table(("entity", "records"), ((n, f"{c:,}") for n, c in counts.items()))
        parts = [f"<p><strong>Dataset</strong>: {len(self):,} record(s)</p>", summary]
        for info in self.entities:
            records = self._tables[info.name].values()
            # The first records of each entity, every field a column (values escaped, cut).
            rows = ([getattr(obj, f.name) for f in info.fields] for obj in records)
            preview = _html.table(info.field_names, rows, total=counts[info.name],
                                  limit=_PREVIEW, what=f"{info.name} records")  # fmt: skip
            parts.append(
                f"<details><summary>{_html.cell(info.name)} ({counts[info.name]:,})</summary>"
                f"{preview}</details>"
            )
        return "<div>" + "".join(parts) + "</div>"


_PREVIEW = 10
"""Records of each entity shown in a dataset's notebook display."""
