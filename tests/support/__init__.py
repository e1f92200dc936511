"""Helpers shared by test folders (a live server in a subprocess, ...)."""
