"""Test helpers for clen_core and its plugin authors: Hypothesis strategies.

Needs Hypothesis (``pip install 'clen_core[test]'``). Strategies are derived
from the declarations, so they cover plugin entities too.
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
