"""clen_core: typed domain objects, code systems and validation rules for customs laboratories."""

# The one declaration of the version (the wheel's metadata is built from it too).
from clen_core._version import __version__
from clen_core.compliance import (
    Decision,
    DecisionRule,
    LimitType,
    Outcome,
    Side,
    Zone,
    acceptance_limit,
    decide,
    decide_arrays,
    false_accept_risk,
)
from clen_core.errors import (
    ClenError,
    CodeError,
    FieldError,
    FormatError,
    InvalidObjectError,
    RejectedRowsError,
)
from clen_core.hookspecs import hookimpl, hookspec
from clen_core.io import (
    ConvertResult,
    FileValidation,
    Format,
    PartitionedDataset,
    PathValidation,
    Reject,
    convert,
    open_partitioned,
    read,
    read_dataset,
    validate_file,
    validate_path,
    write,
    write_dataset,
    write_partitioned,
)
from clen_core.io.appends import Batch, DatasetWriteResult, dataset_batches

# validate takes tables and frames of any library too, checked as a file's rows are.
from clen_core.io.frames import validate
from clen_core.io.migrate import MigrateResult, migrate_dataset
from clen_core.model import *  # noqa: F403 - the model's __all__ is part of ours
from clen_core.model import __all__ as _model_all

# Imported for its effect too: the plugin manager fills the registries' loader slot.
from clen_core.plugins import list_plugins
from clen_core.rules import Finding, Report, Rule, Severity
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
    "Batch",
    "ClenError",
    "CodeError",
    "ConvertResult",
    "DatasetWriteResult",
    "Decision",
    "DecisionRule",
    "FieldError",
    "FileValidation",
    "Format",
    "FormatError",
    "Finding",
    "InvalidObjectError",
    "LimitType",
    "MigrateResult",
    "Outcome",
    "PartitionedDataset",
    "PathValidation",
    "Reject",
    "RejectedRowsError",
    "Report",
    "Rule",
    "Severity",
    "Side",
    "Zone",
    "__version__",
    "acceptance_limit",
    "arrow_schema",
    "convert",
    "dataset_batches",
    "decide",
    "decide_arrays",
    "false_accept_risk",
    "from_arrow",
    "from_json",
    "hookimpl",
    "hookspec",
    "json_schema",
    "list_plugins",
    "migrate_dataset",
    "open_partitioned",
    "read",
    "read_dataset",
    "table_schema",
    "to_arrow",
    "to_json",
    "validate",
    "validate_file",
    "validate_path",
    "write",
    "write_dataset",
    "write_partitioned",
    *_model_all,
]
