"""Alembic migrations for the whole node's schema, run with ``fraudx db upgrade``."""
