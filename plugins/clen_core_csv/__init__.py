"""clen_core's built-in csv format (a plugin: registered through the clen_core entry points)."""
