"""Migration 0005: on PostgreSQL the snapshots of an existing installation move into one
partition per day, keep their ids, and the table goes back to a plain one on reversal; on the
other databases it changes nothing. Either way no snapshot is lost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("analytics", "0004_snapshot_profile")]
AFTER = [("analytics", "0005_snapshot_day_partitions")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _partitions():
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                       "ON c.oid = i.inhrelid WHERE i.inhparent = "
                       "'analytics_scoresnapshot'::regclass ORDER BY 1")
        return [r[0] for r in cursor.fetchall()]


def test_existing_snapshots_survive_the_partition_migration(actors):
    postgres = connection.vendor == "postgresql"
    from guanxi.customers.tests.factories import customer

    a, b = customer(actors["admin"], "甲").pk, customer(actors["admin"], "乙").pk
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO analytics_modelrun (as_of, status, engine_version, "
                           "params, fits, summary, n_customers, started_at) VALUES "
                           "('2026-06-30', 'done', 'x', '{}', '{}', '{}', 2, %s) "
                           "RETURNING id", [timezone.now()])
            run = cursor.fetchone()[0]
            for cid, day in ((a, "2026-06-29"), (b, "2026-06-29"), (a, "2026-06-30")):
                cursor.execute(
                    "INSERT INTO analytics_scoresnapshot (run_id, customer_id, as_of, "
                    "frequency, monetary, rfm_class, abc_class, value_tier, lifecycle_stage, "
                    "declining, reasons, cost_to_serve, profit, clv_class, matrix, portfolio, "
                    "tags) VALUES (%s, %s, %s, 1, 10, '', '', '', '', false, '[]', 0, 0, '', "
                    "'', '', '[]') RETURNING id", [run, cid, day])
            cursor.execute("SELECT id, customer_id, as_of FROM analytics_scoresnapshot "
                           "ORDER BY id")
            rows = cursor.fetchall()
        _migrate(AFTER)
        assert _partitions() == (["analytics_scoresnapshot_d20260629",
                                  "analytics_scoresnapshot_d20260630",
                                  "analytics_scoresnapshot_default"] if postgres else [])
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, customer_id, as_of FROM analytics_scoresnapshot "
                           "ORDER BY id")
            assert cursor.fetchall() == rows
            cursor.execute("INSERT INTO analytics_scoresnapshot (run_id, customer_id, as_of, "
                           "frequency, monetary, rfm_class, abc_class, value_tier, "
                           "lifecycle_stage, declining, reasons, cost_to_serve, profit, "
                           "clv_class, matrix, portfolio, tags) VALUES (%s, %s, '2026-07-01', "
                           "1, 10, '', '', '', '', false, '[]', 0, 0, '', '', '', '[]') "
                           "RETURNING id", [run, b])
            assert cursor.fetchone()[0] > rows[-1][0]  # the sequence goes on after the ids
        _migrate(BEFORE)
        assert _partitions() == []
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM analytics_scoresnapshot")
            assert cursor.fetchone()[0] == 4
    finally:
        _migrate(_leaf())


def _leaf():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
