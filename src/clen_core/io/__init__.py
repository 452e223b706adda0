"""Files and streams: every way data enters or leaves clen_core.

The floor above the rules. Its modules, from the bottom up:

- :mod:`~clen_core.io.records`: raw records and batches as formats give them,
  rejects, and the decoder from raw values to objects;
- :mod:`~clen_core.io.formats`: the :class:`Format` contract plugins register,
  and the registry that finds a format for a path;
- :mod:`~clen_core.io.atomic`: files that replace their target whole or not at all;
- :mod:`~clen_core.io.stages`: parse, check and write in threads side by side;
- :mod:`~clen_core.io.columnar`: whole Arrow batches checked against an entity;
- :mod:`~clen_core.io.parquet`: the one Parquet reader and writer;
- :mod:`~clen_core.io.readwrite`: :func:`read`, :func:`write`,
  :func:`read_dataset`, :func:`write_dataset`;
- :mod:`~clen_core.io.partitioned`: hive-partitioned Parquet datasets;
- :mod:`~clen_core.io.bridges`: the batch validator inside Spark, Dask and pandas;
- :mod:`~clen_core.io.commands`: :func:`convert`, :func:`validate_file` and :func:`validate_path`,
  what ``clen convert`` and ``clen validate`` do.

Modules of clen_core import the module they need, never this package, so that
no import goes round in a circle. (The list of formats is
:func:`clen_core.io.formats.formats`: re-exported here, the function would hide
the module of the same name.)
"""

from clen_core.io.atomic import atomic_file
from clen_core.io.commands import (
    ConvertResult,
    FileValidation,
    PathValidation,
    convert,
    validate_file,
    validate_path,
)
from clen_core.io.formats import Format, FormatError, UnknownFormatError, get_format
from clen_core.io.partitioned import PartitionedDataset, open_partitioned, write_partitioned
from clen_core.io.readwrite import (
    DEFAULT_BATCH_ROWS,
    DEFAULT_DATASET_FORMAT,
    Reader,
    RejectedRowsError,
    WriteResult,
    read,
    read_dataset,
    write,
    write_dataset,
)
from clen_core.io.records import Reject

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_DATASET_FORMAT",
    "ConvertResult",
    "FileValidation",
    "Format",
    "FormatError",
    "PartitionedDataset",
    "PathValidation",
    "Reader",
    "Reject",
    "RejectedRowsError",
    "UnknownFormatError",
    "WriteResult",
    "atomic_file",
    "convert",
    "get_format",
    "open_partitioned",
    "read",
    "read_dataset",
    "validate_file",
    "validate_path",
    "write",
    "write_dataset",
    "write_partitioned",
]
