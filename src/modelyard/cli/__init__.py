"""The modelyard command line: thin commands over the HTTP API (plus serve)."""
