"""Benchmark the analytics refresh in the application, from PostgreSQL.

1. Creates a fresh PostgreSQL database (dropped first if it exists), runs ``guanxi migrate``
   and ``guanxi demo --customers 0`` against it (demo teams and users, no demo customers).
2. Fills it with SQL (INSERT ... SELECT over generate_series, seeded): customers owned by the
   demo sales users and their teams; orders over the two years before the as-of date in a
   BG/NBD-like pattern (a first purchase per customer, then purchases at a customer-specific
   rate until the customer drops out; spend per order around a customer-specific mean); order
   lines adding up to each order's total (``--lines`` in all); 2% of the orders cancelled and
   1% partly refunded; a stated purchase intent for 2% of the customers and 20,000 open
   opportunities (for the CLV with intent). Then ANALYZE.
3. Runs ``guanxi.analytics.jobs.refresh(as_of=...)`` in a child process and reports the wall
   and CPU time of each phase (aggregate: the SQL aggregation; score: the engine and the
   segment queries, the profiles; write: the snapshots and the customers' lifecycle stages;
   rules: the association rules over the order lines of the RFM window), the whole
   refresh, and the child's peak resident memory (``wait4``).

    .venv/bin/python bench/analytics/refresh_app.py [--customers N] [--lines L] [--seed S]
        [--as-of YYYY-MM-DD] [--database NAME] [--reuse]

``--reuse`` keeps an existing, filled database and only runs the refresh again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
SERVER = "postgres://postgres@127.0.0.1:5432"

CHILD = r"""
import datetime as dt, json, os, resource, sys, time
import django
django.setup()
from guanxi.analytics import jobs
from guanxi.analytics.models import ScoreSnapshot

phases = {}

def timed(name, fn):
    def wrapper(*args, **kwargs):
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    return wrapper

jobs.transactions_frame = timed("aggregate", jobs.transactions_frame)
jobs._score = timed("score", jobs._score)
jobs._write = timed("write", jobs._write)
jobs.product_rules = timed("rules", jobs.product_rules)
as_of = dt.date.fromisoformat(sys.argv[1])
w, c = time.perf_counter(), time.process_time()
run = jobs.refresh(as_of=as_of)
total = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c}
snaps = ScoreSnapshot.objects.filter(as_of=as_of).count()
print(json.dumps({"phases": phases, "total": total, "n_customers": run.n_customers,
                  "snapshots": snaps, "buyers": run.summary.get("buyers"),
                  "fits": sorted(run.fits), "stages": run.summary.get("stages"),
                  "peak_rss_self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _env(database: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=f"{SERVER}/{database}", GUANXI_DEV="1",
               DJANGO_SETTINGS_MODULE=env.get("DJANGO_SETTINGS_MODULE", "guanxi.settings"))
    return env


def _guanxi(database: str, *args: str, check: bool = True) -> int:
    return subprocess.run([str(ROOT / ".venv/bin/guanxi"), *args], env=_env(database),
                          check=check, cwd=ROOT, stdout=subprocess.DEVNULL).returncode


def _demo_users(database: str) -> None:
    """``guanxi demo --customers 0``; if a later app's demo fails, the demo teams and users
    (all the benchmark needs) are made directly."""
    if _guanxi(database, "demo", "--customers", "0", check=False) == 0:
        return
    print("guanxi demo --customers 0 failed (see above); creating the demo users directly",
          flush=True)
    env = _env(database)
    env["PYTHONPATH"] = str(ROOT / "src")
    subprocess.run([sys.executable, "-c", "import django; django.setup(); "
                    "from guanxi.core.demo import ensure_users; ensure_users()"],
                   env=env, cwd=ROOT, check=True)


def _filler(table: str, cur, given: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions for ``table``: ``given`` plus a neutral value for
    every other NOT NULL column without a database default (Django sets defaults itself)."""
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'", (table,))
    neutral = {"character varying": "''", "text": "''", "boolean": "false",
               "integer": "0", "smallint": "0", "bigint": "0", "numeric": "0",
               "double precision": "0", "date": "current_date",
               "timestamp with time zone": "now()", "jsonb": "'{}'::jsonb", "uuid":
               "gen_random_uuid()"}
    cols = dict(given)
    for name, kind in cur.fetchall():
        if name not in cols and name != "id":
            cols[name] = neutral[kind]
    return ", ".join(cols), ", ".join(cols.values())


def fill(database: str, customers: int, lines: int, seed: int, as_of: dt.date) -> dict:
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")  # random() in a fixed order
        cur.execute("SELECT setseed(%s)", ((seed % 1_000_000) / 1_000_000,))
        cur.execute("SELECT u.id, u.team_id FROM core_user u JOIN core_role r ON r.id = u.role_id"
                    " WHERE r.code = 'sales' ORDER BY u.id")
        sellers = cur.fetchall()
        owners = "ARRAY[" + ",".join(str(u) for u, _ in sellers) + "]::bigint[]"
        teams = "ARRAY[" + ",".join("NULL" if t is None else str(t) for _, t in sellers) \
            + "]::bigint[]"
        k = len(sellers)
        cols, exprs = _filler("customers_customer", cur, {
            "name": "'客户' || g",
            "kind": "'person'",
            "owner_id": f"({owners})[1 + g % {k}]",
            "team_id": f"({teams})[1 + g % {k}]",
            "lifecycle_stage": "'suspect'",
        })
        cur.execute(f"INSERT INTO customers_customer ({cols}) SELECT {exprs} "
                    f"FROM generate_series(1, {customers}) AS g")
        # Per customer: first purchase day (days before as-of), mean gap in days, the number
        # of purchases before dropping out, mean spend.
        cur.execute("""
            CREATE UNLOGGED TABLE bench_profile AS
            SELECT c.id AS customer_id, c.owner_id, c.team_id,
                   floor(30 + random() * 700)::int AS first_ago,
                   exp(ln(20) + random() * ln(15))::float8 AS gap,
                   (1 + floor(-ln(1 - random()) * 2.2))::int AS purchases,
                   exp(ln(60) + random() * ln(20))::float8 AS spend
            FROM customers_customer c""")
        cur.execute("""
            CREATE UNLOGGED TABLE bench_order AS
            SELECT p.customer_id, p.owner_id, p.team_id, s.k,
                   p.first_ago - sum(CASE WHEN s.k = 1 THEN 0
                       ELSE ceil(-ln(1 - random()) * p.gap) END)
                       OVER (PARTITION BY p.customer_id ORDER BY s.k) AS ago,
                   round((p.spend * exp(0.3 * (random() - 0.5)))::numeric, 2) AS total
            FROM bench_profile p, generate_series(1, p.purchases) AS s(k)""")
        cur.execute("DELETE FROM bench_order WHERE ago < 0")
        cols, exprs = _filler("sales_order", cur, {
            "number": "'B' || row_number() OVER ()",
            "source": "'bench'",
            "customer_id": "customer_id",
            "owner_id": "owner_id",
            "team_id": "team_id",
            "status": "CASE WHEN random() < 0.02 THEN 'cancelled' ELSE 'completed' END",
            "payment_status": "'paid'",
            "currency": "'CNY'",
            "ordered_at": f"(DATE '{as_of.isoformat()}' - ago::int) + time '08:00'"
                          " + random() * interval '12 hours'",
            "total": "total", "tax_total": "0", "total_cny": "total",
            "version": "1", "created_at": "now()",
        })
        cur.execute(f"INSERT INTO sales_order ({cols}) SELECT {exprs} FROM bench_order "
                    "ORDER BY customer_id, k")
        cur.execute("DROP TABLE bench_order, bench_profile")
        cur.execute("SELECT min(id), max(id), count(*) FROM sales_order WHERE source = 'bench'")
        lo, hi, n_orders = cur.fetchone()
        # Line j belongs to order lo + floor((j - 1) * n_orders / lines); the last line of an
        # order takes the remainder so that the lines add up to the order's total.
        cols, exprs = _filler("sales_orderline", cur, {
            "order_id": "l.order_id", "sku": "'SKU' || (l.j % 500)", "quantity": "1",
            "unit_price": "l.amount", "amount": "l.amount", "tax_rate": "0",
            "line_no": "l.line_no",
        })
        cur.execute(f"""
            INSERT INTO sales_orderline ({cols})
            SELECT {exprs} FROM (
                SELECT x.j, x.order_id, x.line_no,
                       CASE WHEN x.line_no < x.n THEN round(o.total_cny / x.n, 2)
                            ELSE o.total_cny - round(o.total_cny / x.n, 2) * (x.n - 1) END
                           AS amount
                FROM (
                    SELECT j, order_id,
                           row_number() OVER (PARTITION BY order_id ORDER BY j) AS line_no,
                           count(*) OVER (PARTITION BY order_id) AS n
                    FROM (SELECT j, {lo} + ((j - 1) * {n_orders}::bigint / {lines}) AS order_id
                          FROM generate_series(1, {lines}) AS j) AS a
                ) AS x JOIN sales_order o ON o.id = x.order_id
            ) AS l""")
        cols, exprs = _filler("sales_orderreturn", cur, {
            "order_id": "id", "kind": "'refund'",
            "amount": "round(total_cny * 0.5, 2)", "amount_cny": "round(total_cny * 0.5, 2)",
            "at": "ordered_at + interval '3 days'",
        })
        cur.execute(f"INSERT INTO sales_orderreturn ({cols}) SELECT {exprs} FROM sales_order "
                    "WHERE source = 'bench' AND status <> 'cancelled' AND random() < 0.01")
        cur.execute("""
            UPDATE customers_customer SET
                purchase_intent = (ARRAY['more', 'steady', 'less', 'leaving'])[1 + id %% 4],
                intent_from = CASE WHEN id %% 3 = 0 THEN %s::date + (id %% 120)::int END
            WHERE random() < 0.02""", (as_of,))
        cur.execute("SELECT s.pipeline_id, s.id FROM sales_stage s JOIN sales_pipeline p "
                    "ON p.id = s.pipeline_id WHERE p.is_default AND NOT s.is_won "
                    "AND NOT s.is_lost ORDER BY s.position")
        stages = cur.fetchall()
        cols, exprs = _filler("sales_opportunity", cur, {
            "name": "'Bench deal ' || c.id", "customer_id": "c.id", "owner_id": "c.owner_id",
            "team_id": "c.team_id", "pipeline_id": str(stages[0][0]),
            "stage_id": f"(ARRAY[{','.join(str(s) for _, s in stages)}])"
                        f"[1 + c.id % {len(stages)}]",
            "status": "'open'", "currency": "'CNY'",
            "amount": "round((1000 + random() * 50000)::numeric, 2)",
            "amount_cny": "round((1000 + random() * 50000)::numeric, 2)",
            "expected_close": f"DATE '{as_of.isoformat()}' + (random() * 400)::int",
            "version": "1", "created_at": "now()", "updated_at": "now()",
        })
        cur.execute(f"INSERT INTO sales_opportunity ({cols}) SELECT {exprs} FROM "
                    "(SELECT * FROM customers_customer ORDER BY random() LIMIT 20000) AS c")
        cur.execute("ANALYZE")
        counts = {}
        for table in ("customers_customer", "sales_order", "sales_orderline",
                      "sales_orderreturn", "sales_opportunity"):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        return counts


def refresh(database: str, as_of: dt.date) -> dict:
    env = _env(database)
    env["PYTHONPATH"] = str(ROOT / "src")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, as_of.isoformat()], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak resident set
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"refresh failed ({proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["process_wall"] = wall
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=None, help="order lines (10 per customer)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--as-of", default="2026-06-30")
    ap.add_argument("--database", default="guanxi_bench_refresh")
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    lines = args.lines or 10 * args.customers
    as_of = dt.date.fromisoformat(args.as_of)
    db = args.database
    load_start = os.getloadavg()[0]
    counts = None
    if not args.reuse:
        t0 = time.perf_counter()
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
        _guanxi(db, "migrate")
        _demo_users(db)
        counts = fill(db, args.customers, lines, args.seed, as_of)
        print(f"database {db} filled in {time.perf_counter() - t0:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    r = refresh(db, as_of)
    load_end = os.getloadavg()[0]
    cmd = (f".venv/bin/python bench/analytics/refresh_app.py --customers {args.customers} "
           f"--lines {lines} --seed {args.seed} --as-of {as_of}")
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load average {load_start:.1f} at "
          f"the start, {load_end:.1f} at the end")
    print(f"refresh as of {as_of}: {r['n_customers']:,} customers ({r['buyers']:,} buyers), "
          f"{r['snapshots']:,} snapshots; fits: {', '.join(r['fits'])}")
    print("\n| phase | wall | CPU | peak memory so far |\n|---|---|---|---|")
    for name in ("aggregate", "score", "write", "rules"):
        p = r["phases"].get(name, {"wall": float("nan"), "cpu": float("nan"),
                                   "peak_rss_kib": float("nan")})
        print(f"| {name} | {p['wall']:.2f} s | {p['cpu']:.2f} s "
              f"| {p['peak_rss_kib'] / 1024:.0f} MiB |")
    print(f"| whole refresh | {r['total']['wall']:.2f} s | {r['total']['cpu']:.2f} s | |")
    print(f"| peak resident memory of the process | {r['peak_rss_mib']:.0f} MiB | | |")
    ok = r["total"]["wall"] < 60 and r["peak_rss_mib"] < 2048
    print(f"\ntarget (< 60 s, < 2 GiB): {'met' if ok else 'not met'}")
    print(f"stages: {r['stages']}")
    print(f"reproduce: {cmd}")


if __name__ == "__main__":
    main()
