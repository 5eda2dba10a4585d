"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def local_setting(cursor, name: str, value: str) -> Iterator[None]:
    """PostgreSQL: setting `name` = `value` for the statements inside, then back to what it
    was (both transaction-local, like SET LOCAL). Other databases: nothing."""
    if cursor.db.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT current_setting(%s)", [name])
    (previous,) = cursor.fetchone()
    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    yield
    cursor.execute("SELECT set_config(%s, %s, true)", [name, previous])
