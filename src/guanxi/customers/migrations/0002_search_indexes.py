"""Database-specific search indexes (schema only).

PostgreSQL: trigram GIN indexes for "contains" search on names and contact points (pg_trgm).
SQLite and MariaDB answer prefix search from the btree indexes of 0001 (range queries) and
scan for "contains"; docs/architecture.md explains the choice.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cust_name_trgm ON customers_customer USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cp_norm_trgm ON customers_contactpoint "
    "USING gin (normalized gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cust_employer_trgm ON customers_customer "
    "USING gin (employer gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS cust_name_trgm",
    "DROP INDEX IF EXISTS cp_norm_trgm",
    "DROP INDEX IF EXISTS cust_employer_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(_run(PG_FORWARD), _run(PG_BACKWARD))]
