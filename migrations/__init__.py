"""Alembic migrations of the engine's schema (engine/db/tables.py)."""
