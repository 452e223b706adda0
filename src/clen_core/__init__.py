"""clen_core: typed domain objects, code systems and validation rules for customs laboratories."""

# The one declaration of the version (the wheel's metadata is built from it too).
from clen_core._version import __version__
from clen_core.compliance import Decision, LimitType, decide
from clen_core.datasets import PartitionedDataset, open_partitioned, write_partitioned
from clen_core.errors import ClenError, CodeError, FieldError, InvalidObjectError
from clen_core.formats import Format, FormatError
from clen_core.io import RejectedRowsError, read, read_dataset, write, write_dataset
from clen_core.model import *  # noqa: F403 - the model's __all__ is part of ours
from clen_core.model import __all__ as _model_all
from clen_core.plugins import hookimpl, hookspec
from clen_core.records import Reject
from clen_core.rules import Finding, Report, Rule, Severity, validate
from clen_core.schema import (
    arrow_schema,
    from_arrow,
    from_json,
    json_schema,
    table_schema,
    to_arrow,
    to_json,
)

__all__ = [
    "ClenError",
    "CodeError",
    "Decision",
    "FieldError",
    "Format",
    "FormatError",
    "Finding",
    "InvalidObjectError",
    "LimitType",
    "PartitionedDataset",
    "Reject",
    "RejectedRowsError",
    "Report",
    "Rule",
    "Severity",
    "__version__",
    "arrow_schema",
    "decide",
    "from_arrow",
    "from_json",
    "hookimpl",
    "hookspec",
    "json_schema",
    "open_partitioned",
    "read",
    "read_dataset",
    "table_schema",
    "to_arrow",
    "to_json",
    "validate",
    "write",
    "write_dataset",
    "write_partitioned",
    *_model_all,
]
