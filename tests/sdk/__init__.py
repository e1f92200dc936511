"""Official Azure SDKs against a live tagwise server (see test_lifecycle.py)."""
