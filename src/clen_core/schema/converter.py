"""The one cattrs converter: entity objects to and from JSON-ready Python values.

Plugins add their hooks through ``clen_configure_converter``; the plugin manager
pushes each plugin's hook here (:func:`add_configurer`), so this module, like
the rest of the schema floor, never calls up to the plugins.

Dates travel as ISO 8601 text, decimals as exact text (``"950000000.00"``),
enums as their values, lists as lists and mappings as objects. Scalars are
passed through untouched on the way in, so that the entity's own checks (not
cattrs' lenient ``int("5")``) decide what is valid: one validator, one message.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import cattrs

from clen_core.registry import ensure_loaded

__all__ = ["add_configurer", "get_converter", "make_converter", "remove_configurer"]

Configurer = Callable[[cattrs.Converter], None]
"""Adds hooks to a converter (a plugin's ``clen_configure_converter``)."""
_configurers: dict[str, Configurer] = {}
"""By the name of the plugin that gave them, in registration order."""


def _structure_date(value: Any, _: type) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value  # the entity check reports it with the field's name
    return value


def _structure_decimal(value: Any, _: type) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _passthrough(value: Any, _: type) -> Any:
    return value


def _enum_value(e: enum.Enum) -> Any:
    return e.value


def _is_tuple(t: Any) -> bool:
    return typing.get_origin(t) is tuple


def _is_mapping(t: Any) -> bool:
    return typing.get_origin(t) in (Mapping, dict)


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, enum.Enum)


def _tuple_hook(conv: cattrs.Converter) -> Any:
    # Only a JSON array becomes a tuple: cattrs alone would split "abc" into letters.
    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        item = typing.get_args(t)[0]
        return tuple(conv.structure(v, item) for v in value)

    return hook


def _mapping_hook(conv: cattrs.Converter) -> Any:
    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        item = typing.get_args(t)[1]
        return {k: conv.structure(v, item) for k, v in value.items()}

    return hook


def make_converter() -> cattrs.Converter:
    """A new converter configured for clen_core entities (plugins may add hooks to it)."""
    conv = cattrs.Converter(
        unstruct_collection_overrides={tuple: list},
        forbid_extra_keys=True,
        detailed_validation=False,
    )
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_unstructure_hook_func(_is_enum, _enum_value)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_structure_hook(Decimal, _structure_decimal)
    for scalar in (str, int, float, bool):
        conv.register_structure_hook(scalar, _passthrough)
    conv.register_structure_hook_func(_is_enum, _passthrough)
    conv.register_structure_hook_func(_is_tuple, _tuple_hook(conv))
    conv.register_structure_hook_func(_is_mapping, _mapping_hook(conv))
    return conv


@functools.cache
def get_converter() -> cattrs.Converter:
    """The shared converter, configured by the plugins' ``clen_configure_converter`` hooks."""
    ensure_loaded()
    conv = make_converter()
    for configure in list(_configurers.values()):
        configure(conv)
    return conv


def add_configurer(name: str, configure: Configurer) -> None:
    """Let ``configure`` (from the plugin ``name``) add its hooks to the shared converter,
    now if it exists already, else when it is made."""
    _configurers[name] = configure
    if get_converter.cache_info().currsize:
        configure(get_converter())


def remove_configurer(name: str) -> None:
    """Forget the hooks of the plugin ``name``: the next converter is made without them."""
    if _configurers.pop(name, None) is not None:
        get_converter.cache_clear()
