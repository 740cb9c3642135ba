"""Order import speed: lines per second into PostgreSQL through the API's service path and
through the CSV job, first import and re-send (every order skipped, nothing duplicated).

Steps: create a fresh database (``guanxi_bench_orders`` by default; dropped first when this
script made it), ``guanxi migrate``, the demo users and teams, then customers through
``customer_bulk_create`` (the service the demo uses). Then it generates N
order lines (1 to 7 lines per order, about 4 on average, so 1,000,000 lines make about 250,000
orders) for random customers of both teams, and measures:

- ``api``: ``orders_import`` (what ``POST /api/v1/orders/import`` calls after parsing), 5,000
  orders per call (the API's limit), 1,000 orders per transaction, as the integration user;
- ``api-http``: the same through the HTTP handler (JSON parsing and schema validation
  included), on a sample of the orders;
- ``csv``: ``order_import_job_create`` + the task's ``order_import_job_run`` on one CSV file
  of all the lines (validation pass, then batches with their resume rows).

Each is run twice; the second run re-sends the same orders and must skip all of them. The
script checks the counts (orders, lines, audit records) after each step and prints a Markdown
table and the command.

    .venv/bin/python bench/sales/import_orders.py                      # 1,000,000 lines
    .venv/bin/python bench/sales/import_orders.py --lines 100000 --customers 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
GUANXI = Path(sys.executable).parent / "guanxi"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_NAME = "guanxi_bench_orders"
PG_COMMENT = "Guanxi order-import benchmark data (bench/sales/import_orders.py)"
SKUS = [(f"SKU-{i:04d}", Decimal(random.Random(i).choice(
    ["9.90", "19.90", "39.00", "88.00", "128.00", "299.00", "1299.00"]))) for i in range(500)]


def sh(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def fresh_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", [name]).fetchone()
        if row is not None:
            if row[0] != PG_COMMENT:
                sys.exit(f"Database {name} exists and was not made by this script; "
                         "choose another --name.")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{PG_COMMENT}'")
    return f"{server}/{name}"


def generate(n_lines: int, customer_ids: list[int], *, seed: int, source: str
             ) -> list[dict]:
    """Orders as the API hands them to the service (typed values)."""
    rng = random.Random(seed)
    tz = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime(2024, 1, 1, tzinfo=tz)
    orders, made, i = [], 0, 0
    while made < n_lines:
        k = min(rng.randint(1, 7), n_lines - made)
        lines = []
        for _ in range(k):
            sku, price = rng.choice(SKUS)
            lines.append({"product_id": None, "sku": sku, "description": "",
                          "quantity": Decimal(rng.randint(1, 5)), "unit_price": price,
                          "tax_rate": Decimal("0.13"), "unit_cost": (price * 6 / 10)
                          .quantize(Decimal("0.01"))})
        orders.append({"source": source, "external_id": f"{source}-{i:08d}",
                       "customer_id": rng.choice(customer_ids), "customer_phone": "",
                       "customer_email": "", "currency": "CNY", "channel": "tmall",
                       "status": "completed", "payment_status": "paid",
                       "ordered_at": start + dt.timedelta(minutes=rng.randrange(900_000)),
                       "lines": lines})
        made += k
        i += 1
    return orders


def to_csv(orders: list[dict]) -> bytes:
    out = ["source,external_id,customer_id,ordered_at,currency,channel,status,payment_status,"
           "sku,quantity,unit_price,tax_rate,unit_cost\n"]
    for o in orders:
        head = (f"{o['source']},{o['external_id']},{o['customer_id']},"
                f"{o['ordered_at']:%Y-%m-%d %H:%M:%S},CNY,tmall,completed,paid,")
        out.extend(f"{head}{ln['sku']},{ln['quantity']},{ln['unit_price']},0.13,"
                   f"{ln['unit_cost']}\n" for ln in o["lines"])
    return "".join(out).encode()


def to_json(orders: list[dict]) -> list[dict]:
    def plain(o):
        return {**o, "ordered_at": o["ordered_at"].isoformat(),
                "lines": [{k: (str(v) if isinstance(v, Decimal) else v)
                           for k, v in ln.items() if v is not None} for ln in o["lines"]]}
    return [plain(o) for o in orders]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--http-sample", type=int, default=100_000,
                        help="lines sent through the HTTP handler")
    parser.add_argument("--paths", default="api,api-http,csv",
                        help="which of api, api-http, csv to measure (comma-separated)")
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--name", default=DEFAULT_NAME)
    parser.add_argument("--seed", type=int, default=20250618)
    args = parser.parse_args()
    paths = set(args.paths.split(","))

    url = fresh_database(args.server, args.name)
    env = {**os.environ, "DATABASE_URL": url, "GUANXI_DEV": "1",
           "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    t = time.perf_counter()
    sh([str(GUANXI), "migrate"], env)
    print(f"database {url} migrated in {time.perf_counter() - t:.0f} s", flush=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from guanxi.core import services as core_services
    from guanxi.core.access import Actor
    from guanxi.core.demo import ensure_users
    from guanxi.core.models import AuditRecord, User
    from guanxi.customers.services import customer_bulk_create
    from guanxi.sales.models import Order, OrderLine
    from guanxi.sales.queries.orders import import_job_get
    from guanxi.sales.services import orders as services

    ensure_users()
    system = Actor.system(channel="system")
    owners = {u.username: u.pk for u in User.objects.filter(
        username__in=["sales1", "manager", "sales2"])}
    t = time.perf_counter()
    records = [{"data": {"name": f"客户{i:06d}", "owner": owners[("sales1", "manager",
                                                                 "sales2")[i % 3]]}}
               for i in range(args.customers)]
    customer_ids = customer_bulk_create(actor=system, records=records, batch_size=2000)
    print(f"{len(customer_ids)} customers in {time.perf_counter() - t:.0f} s", flush=True)
    admin = User.objects.get(username="admin")
    api_actor = Actor(user=User.objects.select_related("role").get(pk=admin.pk), channel="api")
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")
    results: list[dict] = []

    def counts():
        return (Order.objects.count(), OrderLine.objects.count(),
                AuditRecord.objects.filter(model="sales.order").count())

    def analyze():
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

    def db_cpu() -> float:
        """CPU seconds of the database backend serving this process (same host)."""
        try:
            fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / tick

    class Clock:
        def __enter__(self):
            self.wall, self.app, self.db = time.perf_counter(), time.process_time(), db_cpu()
            self.load = os.getloadavg()[0]
            return self

        def __exit__(self, *exc):
            self.wall = time.perf_counter() - self.wall
            self.app = time.process_time() - self.app
            self.db = db_cpu() - self.db
            self.load_end = os.getloadavg()[0]

    def record(path, run, lines, clock, created, skipped):
        rate = lines / clock.wall
        cpu_rate = lines / (clock.app + clock.db)
        results.append({"path": path, "run": run, "lines": lines,
                        "seconds": round(clock.wall, 1), "lines_per_s": round(rate),
                        "app_cpu": round(clock.app, 1), "db_cpu": round(clock.db, 1),
                        "lines_per_cpu_s": round(cpu_rate), "created": created,
                        "skipped": skipped, "load": [round(clock.load, 1),
                                                     round(clock.load_end, 1)]})
        print(f"{path:9} {run:8} {lines:>9,} lines {clock.wall:7.1f} s {rate:>9,.0f} lines/s; "
              f"CPU app {clock.app:.1f} s + db {clock.db:.1f} s = {cpu_rate:,.0f} lines per "
              f"CPU-second; load {clock.load:.1f}-{clock.load_end:.1f} (created {created:,}, "
              f"skipped {skipped:,})", flush=True)

    # The service path of POST /api/v1/orders/import --------------------------------------
    n_lines = 0
    if "api" in paths:
        orders = generate(args.lines, customer_ids, seed=args.seed, source="shop")
        n_lines = sum(len(o["lines"]) for o in orders)
        print(f"{len(orders):,} orders, {n_lines:,} lines generated", flush=True)
        analyze()
        before = counts()
        for run in ("first", "re-send"):
            created = skipped = 0
            with Clock() as clock:
                for start in range(0, len(orders), 1000):
                    res = services.orders_import(actor=api_actor,
                                                 rows=orders[start:start + 1000])
                    assert not res.errors, res.errors[:3]
                    created += res.created
                    skipped += res.skipped
            record("api", run, n_lines, clock, created, skipped)
            assert counts() == (before[0] + len(orders), before[1] + n_lines,
                                before[2] + len(orders)), counts()
            analyze()

    # The HTTP handler on a sample ----------------------------------------------------------
    if "api-http" in paths:
        sample = generate(min(args.http_sample, args.lines), customer_ids,
                          seed=args.seed + 1, source="http")
        sample_lines = sum(len(o["lines"]) for o in sample)
        key = core_services.token_create(actor=api_actor, user=admin, name="bench")
        client = Client(HTTP_HOST="localhost")
        bodies = [json.dumps({"orders": to_json(sample[s:s + 1000])})
                  for s in range(0, len(sample), 1000)]
        before = counts()
        for run in ("first", "re-send"):
            created = skipped = 0
            with Clock() as clock:
                for body in bodies:
                    r = client.post("/api/v1/orders/import", body,
                                    content_type="application/json",
                                    headers={"Authorization": f"Bearer {key}"})
                    assert r.status_code == 200, r.content[:500]
                    created += r.json()["created"]
                    skipped += r.json()["skipped"]
            record("api-http", run, sample_lines, clock, created, skipped)
        assert counts() == (before[0] + len(sample), before[1] + sample_lines,
                            before[2] + len(sample)), counts()
        analyze()

    # The CSV job ---------------------------------------------------------------------------
    if "csv" in paths:
        csv_orders = generate(args.lines, customer_ids, seed=args.seed + 2, source="erp")
        csv_lines = sum(len(o["lines"]) for o in csv_orders)
        n_lines = n_lines or csv_lines
        content = to_csv(csv_orders)
        before = counts()
        for run in ("first", "re-send"):
            with Clock() as clock:
                job = services.order_import_job_create(actor=api_actor, content=content,
                                                       filename="bench.csv", enqueue=False)
                outcome = services.order_import_job_run(actor=api_actor, job_id=job.pk)
            assert outcome["status"] == "done", outcome
            progress = import_job_get(actor=api_actor, job_id=job.pk)
            record("csv", run, csv_lines, clock, progress.created, progress.skipped)
        assert counts() == (before[0] + len(csv_orders), before[1] + csv_lines,
                            before[2] + len(csv_orders)), counts()

    command = ".venv/bin/python bench/sales/import_orders.py " + " ".join(
        shlex.quote(a) for a in sys.argv[1:])
    print()
    print(f"PostgreSQL {pg} ({args.server}), Python {platform.python_version()}, "
          f"{os.cpu_count()} cores; {args.customers:,} customers; about "
          f"{args.lines // 4:,} orders / {args.lines:,} lines per run")
    print("| path | run | lines | wall s | lines/s | CPU s (app + db) | lines per CPU-s | "
          "load | created | skipped |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['path']} | {r['run']} | {r['lines']:,} | {r['seconds']} | "
              f"{r['lines_per_s']:,} | {r['app_cpu']} + {r['db_cpu']} | "
              f"{r['lines_per_cpu_s']:,} | {r['load'][0]}-{r['load'][1]} | {r['created']:,} | "
              f"{r['skipped']:,} |")
    print(f"\nCommand: {command.strip()}")
    OUT.mkdir(exist_ok=True)
    (OUT / "import-orders.json").write_text(json.dumps(
        {"postgresql": pg, "customers": args.customers, "lines": args.lines,
         "results": results, "command": command}, indent=1))


if __name__ == "__main__":
    main()
