"""Editing a CHECK constraint in a migration, on PostgreSQL and SQLite alike.

PostgreSQL drops and re-creates the named constraint. SQLite keeps the check in the table's
definition: it is edited in place in ``sqlite_master`` (rebuilding the table would trip the
foreign keys that reference it), and the database's integrity is checked afterwards.
Nothing stored changes either way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def swap_check(table: str, column: str, old: str, new: str) -> None:
    """Replace ``CHECK (old)`` by ``CHECK (new)`` on ``table`` (constraint ``ck_<table>_<column>``)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, new)
        return
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                       {"t": table}).scalar_one()
    if f"CHECK ({old})" not in sql:
        raise RuntimeError(f"{table}: expected CHECK ({old}) in the table definition")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
                 {"sql": sql.replace(f"CHECK ({old})", f"CHECK ({new})"), "t": table})
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    if bind.execute(sa.text("PRAGMA integrity_check")).scalar_one() != "ok":
        raise RuntimeError(f"{table}: integrity check failed after editing the {column} check")
