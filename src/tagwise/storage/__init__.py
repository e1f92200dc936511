"""Persistence: the relational store (SQLite or PostgreSQL) and the model artifact folders."""
