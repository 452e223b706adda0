"""clen_core's built-in parquet format (a plugin: registered through the clen_core entry points)."""
