"""Test helpers for clen_core and its plugin authors: Hypothesis strategies.

Needs Hypothesis (``pip install 'clen_core[testing]'``, which brings pytest too).
Strategies are derived from the declarations, so they cover plugin entities too;
``docs/plugins.md`` ("Testing your plugin") has a plugin's test file built on them.
"""

from clen_core.testing.codes import invalid_codes, valid_codes, written_forms
from clen_core.testing.strategies import (
    entity_kwargs,
    field_values,
    from_entity,
    invalid_values,
    text,
)

__all__ = [
    "entity_kwargs",
    "field_values",
    "from_entity",
    "invalid_codes",
    "invalid_values",
    "text",
    "valid_codes",
    "written_forms",
]
