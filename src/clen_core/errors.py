"""Every exception clen_core raises on purpose, in one tree under :class:`ClenError`.

A caller catches :class:`ClenError` and sees every error that bad input,
a bad file, a bad argument or a failing plugin can cause; anything else
escaping clen_core is a bug. The errors about values also derive from
:class:`ValueError`, the failed look-ups from :class:`LookupError`, as
Python's own would. ``clen`` turns a :class:`ClenError` into one line and exit
code 2 and lets any other exception be reported as an internal error.

This module imports nothing of clen_core: every floor may raise these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

__all__ = [
    "ArgumentError",
    "ClenError",
    "CodeError",
    "DuplicateKeyError",
    "FieldError",
    "FormatError",
    "InvalidObjectError",
    "PluginError",
    "RejectedRowsError",
    "StatisticsError",
    "UnknownCodeSystemError",
    "UnknownEntityError",
    "UnknownFormatError",
    "UnknownNameError",
    "UnknownRuleError",
    "UnknownStudyError",
]


class ClenError(Exception):
    """Base class of every error clen_core raises on purpose."""


# --------------------------------------------------------------------------- values


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
    """One bad field of one object: which field, the value given and why it is refused.

    Not an exception: the items of :attr:`InvalidObjectError.errors`."""

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


class DuplicateKeyError(ClenError, ValueError):
    """A record with the same key is already in the dataset."""


class ArgumentError(ClenError, ValueError):
    """An argument or setting is outside what the function accepts (the message says what is
    expected): a row count below 1, an unknown report format, an empty write without entity."""


class StatisticsError(ClenError, ValueError):
    """The data cannot give the statistic or score asked for: no value, a missing or
    non-finite one, σ ≤ 0, a round whose robust statistics do not exist."""


# --------------------------------------------------------------------------- files


class FormatError(ClenError, ValueError):
    """A file cannot be read as the format says (names the file, and row and field if known)."""

    def __init__(
        self, path: str, message: str, *, row: int | None = None, field: str | None = None
    ) -> None:
        self.path = path
        """The file."""
        self.row = row
        """1-based row, when the problem is at one."""
        self.field = field
        """Field or column, when the problem is about one."""
        where = path + (f", row {row}" if row is not None else "")
        where += f", field {field}" if field is not None else ""
        super().__init__(f"{where}: {message}")


class RejectedRowsError(ClenError, ValueError):
    """Rows did not fit the entity: every one is listed (up to a cap) with file, row and field."""

    # The rejects and the dataset are typed loosely: their classes live on the floors
    # above (io.records, model.dataset), and this module imports nothing of clen_core.
    def __init__(
        self, rejects: list[Any], *, read: int, rejected: int, dataset: Any = None
    ) -> None:
        self.rejects = rejects
        """The rejects kept (one per bad field, :class:`~clen_core.Reject`), in file order."""
        self.read = read
        """Rows read."""
        self.rejected = rejected
        """Rows rejected."""
        self.dataset = dataset
        """For :func:`~clen_core.read_dataset`: the :class:`~clen_core.Dataset` of the
        accepted rows; otherwise ``None``."""
        shown = "\n".join(f"  - {r}" for r in rejects[:10])
        more = f"\n  ... and more ({len(rejects) - 10} kept)" if len(rejects) > 10 else ""
        super().__init__(
            f"{rejected} of {read} row(s) rejected "
            f"(on_reject='collect' keeps the good rows without raising):\n{shown}{more}"
        )


# --------------------------------------------------------------------------- look-ups


class UnknownNameError(ClenError, LookupError):
    """Nothing is registered or known under that name (the message lists what is)."""


class UnknownEntityError(UnknownNameError):
    """No entity is registered under that name."""


class UnknownFormatError(UnknownNameError):
    """No registered format has that name or fits that path."""


class UnknownRuleError(UnknownNameError):
    """No rule is registered with that ID."""


class UnknownCodeSystemError(UnknownNameError):
    """No code system has the requested name; the message lists the known names."""

    def __init__(self, name: object, known: Iterable[str]) -> None:
        self.name = name
        """The name asked for, as given."""
        self.known: tuple[str, ...] = tuple(sorted(known))
        """Names of the known code systems."""
        super().__init__(f"unknown code system {name!r}; known: {', '.join(self.known)}")


class UnknownStudyError(UnknownNameError):
    """No proficiency-test study with that identifier where it was looked for."""


# --------------------------------------------------------------------------- plugins


class PluginError(ClenError, RuntimeError):
    """A plugin failed to load or register while ``CLEN_STRICT_PLUGINS=1``."""
