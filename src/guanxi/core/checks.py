"""System checks: run by `guanxi migrate`, `guanxi serve` and `manage check`."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import connection


@register("database")
def mysql_time_zone_tables(app_configs=None, **kwargs):
    """On MariaDB/MySQL, Django converts times to the configured zone in SQL; without the
    server's time-zone tables every date-based query silently returns nothing."""
    if connection.vendor != "mysql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Asia/Shanghai')")
            (value,) = cursor.fetchone()
    except Exception:  # no database yet: other checks report that
        return []
    if value is None:
        return [Error(
            "The MariaDB/MySQL server has no time-zone tables.",
            hint="Load them once: mariadb-tzinfo-to-sql /usr/share/zoneinfo | "
                 "mariadb -u root mysql (see docs/deployment.md).",
            id="guanxi.E001")]
    return []
