"""Score snapshots on PostgreSQL: one partition per day (migration 0005).

A refresh writes its day into a table of its own (COPY into a table without indexes), builds
that table's indexes, checks its foreign keys and its day there, then swaps it in for the
day's old partition in one short transaction. So the write never touches the index pages of
other days (it costs the same with a year of history as with none), readers never see a
half-written day, and dropping a day (a rerun, the retention) is a DROP TABLE, not a DELETE of
a million rows. Rows inserted one by one (through the ORM) for a day without a partition of
its own go to the default partition; a swap first removes the day's rows from there.

The day table's indexes and constraints are read from the partitioned table itself, so an
index added to the model later is built on every new day without a change here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

PARENT = "analytics_scoresnapshot"
DEFAULT = f"{PARENT}_default"
# A day's table before the swap is named after the run that wrote it.
_STAGED = re.compile(rf"^{PARENT}_d\d{{8}}_r\d+$")
_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ (USING .*)$")


def partitioned(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)",
                   [PARENT])
    return cursor.fetchone() is not None


def day_table(as_of: dt.date) -> str:
    return f"{PARENT}_d{as_of:%Y%m%d}"


def _day(as_of: dt.date) -> str:
    return f"DATE '{as_of.isoformat()}'"  # a date's ISO form: nothing to escape


def drop_abandoned(cursor) -> list[str]:
    """Drop day tables a refresh wrote but never swapped in (it stopped in between)."""
    cursor.execute("SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' "
                   "AND NOT c.relispartition AND c.relname LIKE %s", [f"{PARENT}_d%"])
    names = [r[0] for r in cursor.fetchall() if _STAGED.match(r[0])]
    for name in names:
        cursor.execute(f'DROP TABLE "{name}"')
    return names


def stage(cursor, *, as_of: dt.date, run_id: int, columns: Iterable[str],
          chunks: Iterable[bytes | memoryview]) -> str:
    """Write a day's rows (CSV ``chunks``, ``columns`` in order, ``\\N`` for null) into a
    new table, with the partitioned table's indexes and constraints; returns its name, for
    ``swap``."""
    name = f"{day_table(as_of)}_r{run_id}"
    cols = ", ".join(f'"{c}"' for c in columns)
    cursor.execute(f'CREATE TABLE "{name}" (LIKE {PARENT} INCLUDING DEFAULTS '
                   "INCLUDING CONSTRAINTS INCLUDING STORAGE)")
    cursor.execute(f'ALTER TABLE "{name}" ADD CHECK (as_of IS NOT NULL AND '
                   f"as_of = {_day(as_of)})")
    with cursor.copy(f'COPY "{name}" ({cols}) FROM STDIN WITH (FORMAT CSV, NULL \'\\N\')'
                     ) as copy:
        for chunk in chunks:
            copy.write(chunk)
    # Primary key, unique constraints and foreign keys as on the partitioned table: the swap
    # then attaches them instead of building and checking them under its lock.
    cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') "
                   "ORDER BY contype DESC, conname", [PARENT])
    for (definition,) in cursor.fetchall():
        cursor.execute(f'ALTER TABLE "{name}" ADD {definition}')
    cursor.execute("SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                   "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM "
                   "pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1", [PARENT])
    for (definition,) in cursor.fetchall():
        match = _INDEX.match(definition)
        if match is None:
            raise RuntimeError(f"unexpected index definition: {definition}")
        cursor.execute(f'CREATE {match.group(1) or ""}INDEX ON "{name}" {match.group(2)}')
    cursor.execute(f'ANALYZE "{name}"')
    return name


def _drop_day(cursor, as_of: dt.date) -> None:
    table = day_table(as_of)
    cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relispartition", [table])
    if cursor.fetchone() is not None:
        cursor.execute(f'ALTER TABLE {PARENT} DETACH PARTITION "{table}"')
        cursor.execute(f'DROP TABLE "{table}"')
    cursor.execute(f"DELETE FROM {DEFAULT} WHERE as_of = {_day(as_of)}")


def swap(cursor, *, as_of: dt.date, staged: str) -> None:
    """Make ``staged`` the partition of ``as_of``, replacing the day's earlier rows. Call in
    the transaction that should make the day visible."""
    _drop_day(cursor, as_of)
    cursor.execute(f'ALTER TABLE "{staged}" RENAME TO "{day_table(as_of)}"')
    cursor.execute(f'ALTER TABLE {PARENT} ATTACH PARTITION "{day_table(as_of)}" '
                   f"FOR VALUES IN ({_day(as_of)})")


def drop_days(cursor, days: Iterable[dt.date]) -> None:
    """Remove the snapshots of ``days`` (their partitions, and their rows in the default)."""
    for day in days:
        _drop_day(cursor, day)
