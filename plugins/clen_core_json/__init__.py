"""clen_core's built-in json format (a plugin: registered through the clen_core entry points)."""
