"""The Azure-compatible HTTP API (plus tagwise's own routes under /language/tagwise)."""
