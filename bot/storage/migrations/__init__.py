"""Alembic migrations (env.py, versions/) and the helpers they share."""
