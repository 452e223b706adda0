"""The exception types clen_core raises on bad input.

Every error that bad data can cause is one of these (all derive from
:class:`ClenError`, and the value errors also from :class:`ValueError`), so a
caller can catch one type and never see a bare traceback from deep inside.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["ClenError", "CodeError", "FieldError", "InvalidObjectError"]


class ClenError(Exception):
    """Base class of every error clen_core raises on purpose."""


class CodeError(ClenError, ValueError):
    """A value is not a valid code of a code system (CAS RN, CN code, country, ...)."""

    def __init__(self, system: str, value: object, reason: str, expected: str) -> None:
        self.system = system
        """Name of the code system, e.g. ``"cas"``."""
        self.value = value
        """The value as given."""
        self.reason = reason
        """What is wrong with it."""
        self.expected = expected
        """What a valid value looks like."""
        super().__init__(f"{value!r} is not a valid {system} code: {reason}; expected {expected}")


@attrs.frozen
class FieldError:
    """One bad field of one object: which field, the value given and why it is refused."""

    field: str
    """Name of the field."""
    value: Any
    """The offending value, as given."""
    reason: str
    """What is wrong and what was expected."""

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.reason}"


class InvalidObjectError(ClenError, ValueError):
    """An entity object could not be built: lists every bad field, not only the first."""

    def __init__(
        self,
        entity: str,
        errors: tuple[FieldError, ...] | list[FieldError],
        *,
        row: int | None = None,
    ) -> None:
        self.entity = entity
        """Entity name, e.g. ``"activity"``."""
        self.errors: tuple[FieldError, ...] = tuple(errors)
        """Every bad field, in declaration order."""
        self.row = row
        """1-based row of the record in its source, when known."""
        where = f" (row {row})" if row is not None else ""
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"invalid {entity}{where}: {len(self.errors)} bad field(s)\n{lines}")

    @property
    def fields(self) -> tuple[str, ...]:
        """Names of the bad fields, in declaration order."""
        return tuple(e.field for e in self.errors)
