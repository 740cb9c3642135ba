"""Kanban board first screen: the opportunity board with 10,000 open opportunities, measured
at the server and in a browser.

Steps: create a fresh PostgreSQL database (``guanxi_bench_kanban`` by default; dropped first
when this script made it), ``guanxi migrate``, the demo users and teams plus four more
representatives (two per team), customers through ``customer_bulk_create`` (the service the
demo uses), then the opportunities in bulk (``bulk_create``, with their stage history and
the audit record of their creation): ``--open`` open ones spread over the default pipeline's
open stages, both teams and seven owners, and ``--closed`` won or lost ones: ``--recent`` of
them closed in the last 30 days (the board shows those), the rest in the two years before. Amounts are Decimal
CNY (a tenth in USD with ``amount_cny`` converted), with expected close dates and next steps.
Then ANALYZE.

It starts ``guanxi serve --production`` (gunicorn, 2 sync workers, CONN_MAX_AGE=600) on a free
loopback port, signs in through the login form, and measures ``/sales/opportunities/board/``:

- server: after a warm-up, ``--requests`` sequential GETs per target (the administrator, who
  sees every opportunity; sales1 and the manager, who see their team's; sales1 with
  ``?owner=`` set to themselves, the board's "Mine"), with the time to the last byte, the
  CPU each request costs in the application and in the database, and the response size.
  Every response must be 200 and show the per-stage counts a SQL count gives;
- browser: Playwright with Debian's Chromium (the flags of tests/e2e/conftest.py), signed in,
  loading the board ``--loads`` times per user and reading the Navigation Timing entry:
  responseEnd, domContentLoadedEventEnd and loadEventEnd (the first screen: cards shown),
  each from the navigation's start.

It prints Markdown tables, the load average at the start and at the end, and the command;
the figures also go to bench/out/kanban.json.

    .venv/bin/python bench/sales/kanban.py                      # 10,000 open opportunities
    .venv/bin/python bench/sales/kanban.py --open 500 --closed 200 --recent 80 --customers 1000
    .venv/bin/python bench/sales/kanban.py --closed 100000 --name guanxi_bench_kanban_history
    .venv/bin/python bench/sales/kanban.py --reuse              # measure the existing data
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import random
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
GUANXI = Path(sys.executable).parent / "guanxi"
CHROMIUM = "/usr/bin/chromium"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_NAME = "guanxi_bench_kanban"
PG_COMMENT = "Guanxi kanban benchmark data (bench/sales/kanban.py)"
PASSWORD = "guanxi-demo"
BOARD = "/sales/opportunities/board/"
# Representatives added to the demo's (username, name, team code).
EXTRA_OWNERS = [("sales3", "张销售", "east"), ("sales4", "刘销售", "east"),
                ("sales5", "杨销售", "north"), ("sales6", "黄销售", "north")]
TEAM_OWNERS = {"east": ["sales1", "manager", "sales3", "sales4"],
               "north": ["sales2", "sales5", "sales6"]}
TEAM_SHARE = {"east": 0.55, "north": 0.45}
# Open stages by code with their share of the open opportunities.
OPEN_SHARE = {"qualification": 0.35, "needs": 0.30, "proposal": 0.20, "negotiation": 0.15}
USD_RATE = Decimal("7.1500")
PRODUCTS = ["企业版软件许可", "年度维保服务", "实施服务", "云主机套餐", "数据迁移项目", "培训课程",
            "智能门锁", "工业传感器", "办公家具", "物流配送系统", "会员积分平台", "客服外包"]
NEXT_STEPS = ["周三电话回访，确认预算", "发送报价单给采购部", "安排产品演示", "等待技术评估结果",
              "约见决策人", "准备投标文件", "跟进合同条款修改", "寄送样品", "提交方案到邮箱",
              "与法务确认付款方式", "Follow up on the pilot results", "Send the revised quote", ""]
CARDS_PER_COLUMN = 30


def load_web_run():
    """bench/web/run.py: its server process, port and CPU helpers."""
    spec = importlib.util.spec_from_file_location("bench_web_run",
                                                  ROOT / "bench" / "web" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def sh(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def database(server: str, name: str, *, reuse: bool) -> tuple[str, bool]:
    """The database URL and whether it is new (a fresh one unless ``reuse`` finds one this
    script made)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", [name]).fetchone()
        if row is not None:
            if row[0] != PG_COMMENT:
                sys.exit(f"Database {name} exists and was not made by this script; "
                         "choose another --name.")
            if reuse:
                return f"{server}/{name}", False
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{PG_COMMENT}'")
    return f"{server}/{name}", True


# Data ---------------------------------------------------------------------------------------

def ensure_owners() -> dict[str, object]:
    """The demo users plus the extra representatives; users by username."""
    from guanxi.core.demo import ensure_users
    from guanxi.core.models import Role, Team, User

    users = ensure_users()
    role = Role.objects.get(code="sales")
    for username, name, team in EXTRA_OWNERS:
        user = User.objects.filter(username=username).first() or User(
            username=username, first_name=name, email=f"{username}@guanxi.example")
        user.set_password(PASSWORD)
        user.role, user.team, user.is_active = role, Team.objects.get(code=team), True
        user.save()
        users[username] = user
    return users


def load(args, users: dict[str, object]) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.core import audit
    from guanxi.core.access import Actor
    from guanxi.customers.models import Customer
    from guanxi.customers.services import customer_bulk_create
    from guanxi.sales.models import ExchangeRate, Opportunity, StageHistory
    from guanxi.sales.queries.opportunities import default_pipeline, stages_of
    from guanxi.sales.services.opportunities import AUDIT_FIELDS

    rng = random.Random(args.seed)
    system = Actor.system(channel="system")
    owner_ids = {name: users[name].pk for names in TEAM_OWNERS.values() for name in names}
    all_owners = list(owner_ids)
    t = time.perf_counter()
    records = [{"data": {"name": f"客户{i:06d}", "owner": owner_ids[all_owners[i % len(
        all_owners)]]}} for i in range(args.customers)]
    customer_bulk_create(actor=system, records=records, batch_size=2000)
    print(f"{args.customers:,} customers in {time.perf_counter() - t:.0f} s", flush=True)
    customers = {team: [] for team in TEAM_OWNERS}
    team_code = {u.team_id: u.team.code for u in users.values() if u.team_id}
    for pk, name, team_id in Customer.objects.values_list("id", "name", "team_id"):
        customers[team_code[team_id]].append((pk, name))
    ExchangeRate.objects.get_or_create(currency="USD", valid_from=dt.date(2020, 1, 1),
                                       defaults={"rate": USD_RATE})

    pipeline = default_pipeline()
    stages = stages_of(pipeline.pk)
    open_stages = [s for s in stages if not (s.is_won or s.is_lost)]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    weights = [OPEN_SHARE.get(s.code, 0.1) for s in open_stages]
    now = timezone.now()
    today = timezone.localdate()
    teams = list(TEAM_SHARE)

    def one(status: str, recent: bool) -> tuple[Opportunity, list[StageHistory]]:
        team = rng.choices(teams, [TEAM_SHARE[x] for x in teams])[0]
        owner = rng.choice(TEAM_OWNERS[team])
        customer_id, customer_name = rng.choice(customers[team])
        product = rng.choice(PRODUCTS)
        amount = Decimal(int(round(math.exp(rng.gauss(10.5, 1.1)), -2)) or 100)
        currency = "USD" if rng.random() < 0.1 else "CNY"
        if currency == "USD":
            amount = (amount / 7).quantize(Decimal("1"))
        amount_cny = (amount * (USD_RATE if currency == "USD" else 1)).quantize(
            Decimal("0.01"))
        created = now - dt.timedelta(days=rng.uniform(5, 420))
        if status != "open" and not recent:
            created -= dt.timedelta(days=365)
        if status == "open":
            stage = rng.choices(open_stages, weights)[0]
            path = open_stages[:open_stages.index(stage) + 1]
            closed_at = None
            close = (None if rng.random() < 0.05
                     else today + dt.timedelta(days=rng.randint(-30, 180)))
        else:
            # Away from the 30-day edge, so that a count taken now holds for the whole run.
            closed_at = now - dt.timedelta(days=rng.uniform(1, 28) if recent
                                           else rng.uniform(32, 760))
            created = min(created, closed_at - dt.timedelta(days=rng.uniform(3, 120)))
            stage = won if status == "won" else lost
            path = (open_stages if status == "won"
                    else open_stages[:rng.randint(1, len(open_stages))]) + [stage]
            close = closed_at.date()
        # Entered each stage of the path in turn, between creation and now (or closing).
        end = closed_at or now
        marks = sorted(created + (end - created) * rng.random() for _ in path[1:])
        entered = [created, *marks]
        opp = Opportunity(
            name=f"{customer_name} · {product}", customer_id=customer_id, pipeline=pipeline,
            stage=stage, status=status, amount=amount, currency=currency,
            amount_cny=amount_cny, expected_close=close,
            competitors=rng.choice(["", "", "华为", "用友", "金蝶", "Salesforce"]),
            next_step=rng.choice(NEXT_STEPS) if status == "open" else "",
            lost_reason="价格高于竞争对手" if status == "lost" else "",
            won_reason="方案匹配度高" if status == "won" else "",
            owner_id=owner_ids[owner], team_id=users[owner].team_id, closed_at=closed_at,
            stage_entered_at=entered[-1], created_at=created, updated_at=entered[-1])
        history = [StageHistory(stage=s, entered_at=at,
                                left_at=entered[i + 1] if i + 1 < len(entered) else None)
                   for i, (s, at) in enumerate(zip(path, entered, strict=True))]
        return opp, history

    t = time.perf_counter()
    recent = min(args.recent, args.closed)
    kinds = ([("open", False)] * args.open
             + [(rng.choice(["won", "lost"]), i < recent) for i in range(args.closed)])
    rng.shuffle(kinds)
    batch = 2000
    for start in range(0, len(kinds), batch):
        made = [one(*k) for k in kinds[start:start + batch]]
        with transaction.atomic():
            opps = Opportunity.objects.bulk_create([o for o, _ in made])
            rows = []
            for opp, history in made:
                for h in history:
                    h.opportunity_id = opp.pk
                rows.extend(history)
            StageHistory.objects.bulk_create(rows, batch_size=5000)
            audit.record_many(system, [(o, "create", audit.diff(
                {}, audit.snapshot(o, AUDIT_FIELDS)), o.customer_id) for o in opps])
    print(f"{args.open:,} open and {args.closed:,} closed opportunities ({recent:,} in the "
          f"last 30 days) in "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


# Measuring ----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def get(url: str, session: str) -> tuple[int, bytes, float]:
    """Status, body and seconds to the last byte."""
    req = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
            return r.status, body, time.perf_counter() - t
    except urllib.error.HTTPError as exc:
        return exc.code, b"", time.perf_counter() - t


def expected_counts(pipeline_id: int, team_id: int | None, owner_id: int | None
                    ) -> list[int]:
    """Per stage (in position order): open opportunities plus those closed in the last 30
    days, counted in SQL apart from the application's query."""
    from django.db import connection

    sql = ["SELECT count(o.id) FROM sales_stage s LEFT JOIN sales_opportunity o "
           "ON o.stage_id = s.id AND o.pipeline_id = s.pipeline_id "
           "AND (o.status = 'open' OR o.closed_at >= now() - interval '30 days')"]
    params: list[int] = []
    if team_id is not None:
        sql.append("AND o.team_id = %s")
        params.append(team_id)
    if owner_id is not None:
        sql.append("AND o.owner_id = %s")
        params.append(owner_id)
    sql.append("WHERE s.pipeline_id = %s GROUP BY s.id, s.position ORDER BY s.position")
    params.append(pipeline_id)
    with connection.cursor() as cur:
        cur.execute(" ".join(sql), params)
        return [r[0] for r in cur.fetchall()]


def check(body: bytes, counts: list[int]) -> str | None:
    """Why a board page is not the expected one, or None."""
    text = body.decode()
    shown = [int(n) for n in re.findall(r'<span class="col-count">(\d+)</span>', text)]
    if shown != counts:
        return f"per-stage counts {shown}, expected {counts}"
    cards = text.count('class="card kanban-card"')
    if cards != sum(min(n, CARDS_PER_COLUMN) for n in counts):
        return f"{cards} cards"
    return None


def server_run(args, web, server, target: dict, session: str, db_pids: list[int]) -> dict:
    url = server.base + target["path"]
    for _ in range(args.warmup):
        status, body, _s = get(url, session)
        if status != 200:
            raise SystemExit(f"{target['key']}: GET {target['path']} answered {status}")
    workers = server.workers()
    app0 = sum(web.cpu_seconds(p) for p in workers)
    db0 = sum(web.cpu_seconds(p) for p in db_pids)
    times, sizes = [], []
    for _ in range(args.requests):
        status, body, seconds = get(url, session)
        problem = f"status {status}" if status != 200 else check(body, target["counts"])
        if problem:
            raise SystemExit(f"{target['key']}: GET {target['path']}: {problem}")
        times.append(seconds * 1000)
        sizes.append(len(body))
    app = sum(web.cpu_seconds(p) for p in workers) - app0
    db = sum(web.cpu_seconds(p) for p in db_pids) - db0
    n = len(times)
    return {**{k: v for k, v in target.items() if k != "counts"},
            "counts": target["counts"], "requests": n,
            "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "p99_ms": round(percentile(times, 99), 1), "max_ms": round(max(times), 1),
            "mean_ms": round(sum(times) / n, 1), "app_cpu_ms": round(app / n * 1000, 1),
            "db_cpu_ms": round(db / n * 1000, 1), "bytes": round(sum(sizes) / n)}


def browser_run(args, base: str, targets: list[dict]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        try:
            for target in targets:
                ctx = browser.new_context(locale="zh-CN",
                                          viewport={"width": 1440, "height": 900})
                page = ctx.new_page()
                page.set_default_timeout(60_000)
                page.goto(base + "/login/")
                page.fill("#id_username", target["user"])
                page.fill("#id_password", PASSWORD)
                page.click("#sign-in")
                page.wait_for_url(lambda u: "/login/" not in u)
                want = sum(min(n, CARDS_PER_COLUMN) for n in target["counts"])
                timings = []
                for i in range(args.loads + 1):  # the first load fills the cache
                    page.goto(base + target["path"], wait_until="load")
                    cards = page.locator(".kanban-card").count()
                    if cards != want:
                        raise SystemExit(f"browser {target['key']}: {cards} cards, "
                                         f"expected {want}")
                    nav = page.evaluate(
                        "(() => { const e = performance.getEntriesByType('navigation')[0];"
                        " return {response: e.responseEnd - e.startTime,"
                        " dcl: e.domContentLoadedEventEnd - e.startTime,"
                        " load: e.loadEventEnd - e.startTime}; })()")
                    if i:
                        timings.append(nav)
                ctx.close()
                row = {"key": target["key"], "label": target["label"], "loads": len(timings)}
                for name in ("response", "dcl", "load"):
                    values = [t[name] for t in timings]
                    row[f"{name}_p50_ms"] = round(percentile(values, 50), 1)
                    row[f"{name}_p95_ms"] = round(percentile(values, 95), 1)
                out.append(row)
                print(f"  browser {target['key']}: first screen (load event) p50 "
                      f"{row['load_p50_ms']} ms, p95 {row['load_p95_ms']} ms", flush=True)
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=10_000, help="open opportunities")
    parser.add_argument("--closed", type=int, default=5_000,
                        help="won or lost opportunities")
    parser.add_argument("--recent", type=int, default=2_000,
                        help="how many of the closed ones closed in the last 30 days")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200,
                        help="measured requests per server target")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up requests per target")
    parser.add_argument("--loads", type=int, default=20, help="browser loads per user")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser part")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database a previous run made, as it is")
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--name", default=DEFAULT_NAME)
    parser.add_argument("--seed", type=int, default=20250701)
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_start = os.getloadavg()
    url, fresh = database(args.server, args.name, reuse=args.reuse)
    env = {**os.environ, "DATABASE_URL": url, "GUANXI_DEV": "1", "CONN_MAX_AGE": "600",
           "DJANGO_SETTINGS_MODULE": "guanxi.settings",
           "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    env.pop("DEBUG", None)
    t = time.perf_counter()
    sh([str(GUANXI), "migrate"], env)
    print(f"database {url} migrated in {time.perf_counter() - t:.0f} s", flush=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection

    from guanxi.core.models import User
    from guanxi.sales.models import Opportunity
    from guanxi.sales.queries.opportunities import default_pipeline

    if fresh:
        load(args, ensure_owners())
    elif not Opportunity.objects.exists():
        sys.exit(f"Database {args.name} holds no opportunities; run without --reuse.")
    pipeline = default_pipeline()
    n_open = Opportunity.objects.filter(pipeline=pipeline, status="open").count()
    n_closed = Opportunity.objects.filter(pipeline=pipeline).exclude(status="open").count()
    users = {u.username: u for u in User.objects.filter(
        username__in=["admin", "manager", "sales1"])}
    sales1 = users["sales1"]
    targets = [
        {"key": "all", "user": "admin", "path": BOARD,
         "label": "admin: every opportunity (scope all)", "team": None, "owner": None},
        {"key": "team-manager", "user": "manager", "path": BOARD,
         "label": "manager: team East (scope team)", "team": users["manager"].team_id,
         "owner": None},
        {"key": "team", "user": "sales1", "path": BOARD,
         "label": "sales1: team East (scope team)", "team": sales1.team_id, "owner": None},
        {"key": "mine", "user": "sales1", "path": f"{BOARD}?owner={sales1.pk}",
         "label": "sales1: own (?owner=, \"Mine\")", "team": sales1.team_id,
         "owner": sales1.pk},
    ]
    for target in targets:
        target["counts"] = expected_counts(pipeline.pk, target["team"], target["owner"])
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]

    web = load_web_run()
    version = web.code_version()
    OUT.mkdir(parents=True, exist_ok=True)
    server = web.Server(env, web.free_port(), args.workers, OUT / "kanban-server.log", 0)
    results, browser = [], []
    try:
        server.wait_ready()
        print(f"Code: {version}. {n_open:,} open and {n_closed:,} closed opportunities; "
              f"server {server.base}, {args.workers} workers; {os.cpu_count()} cores.",
              flush=True)
        sessions = {u: web.login(server.base, u) for u in {t["user"] for t in targets}}
        for target in targets:  # one request each, so that every worker has a connection
            get(server.base + target["path"], sessions[target["user"]])
        db_pids = web.db_backends("postgresql")
        for target in targets:
            r = server_run(args, web, server, target, sessions[target["user"]], db_pids)
            results.append(r)
            print(f"  server {r['key']}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
                  f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms; CPU {r['app_cpu_ms']} + "
                  f"{r['db_cpu_ms']} ms; {r['bytes'] / 1024:.0f} KiB; counts "
                  f"{r['counts']}", flush=True)
        if not args.no_browser:
            browser = browser_run(args, server.base, [targets[0], targets[2]])
    finally:
        server.stop()
    load_end = os.getloadavg()

    command = ".venv/bin/python bench/sales/kanban.py " + " ".join(
        shlex.quote(a) for a in sys.argv[1:])
    print()
    print(f"PostgreSQL {pg} ({args.server}), Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, gunicorn {args.workers} sync workers; code {version}; "
          f"{n_open:,} open and {n_closed:,} closed opportunities in the default pipeline; "
          f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} at the "
          f"start, {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at the end.")
    print()
    print(f"Server: {args.requests} sequential GET {BOARD} per row after {args.warmup} "
          "warm-up requests (time to the last byte at the client).")
    print()
    print("| board | cards shown / opportunities counted | p50 | p95 | p99 | max | "
          "CPU per request (app + db) | response |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        shown = sum(min(n, CARDS_PER_COLUMN) for n in r["counts"])
        print(f"| {r['label']} | {shown} / {sum(r['counts']):,} | {r['p50_ms']} ms | "
              f"{r['p95_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms | "
              f"{r['app_cpu_ms']} + {r['db_cpu_ms']} ms | {r['bytes'] / 1024:.0f} KiB |")
    if browser:
        print()
        print(f"Browser: Chromium (headless), signed in, {args.loads} loads of the board per "
              "row after one that fills the cache; Navigation Timing from the navigation's "
              "start. First screen = loadEventEnd (the cards are shown).")
        print()
        print("| board | responseEnd p50 / p95 | DOMContentLoaded p50 / p95 | "
              "first screen (load) p50 / p95 |")
        print("|---|---:|---:|---:|")
        for b in browser:
            print(f"| {b['label']} | {b['response_p50_ms']} / {b['response_p95_ms']} ms | "
                  f"{b['dcl_p50_ms']} / {b['dcl_p95_ms']} ms | {b['load_p50_ms']} / "
                  f"{b['load_p95_ms']} ms |")
    print(f"\nCommand: {command.strip()}")
    (OUT / "kanban.json").write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M"), "code": version, "postgresql": pg,
        "python": platform.python_version(), "cores": os.cpu_count(),
        "workers": args.workers, "open": n_open, "closed": n_closed,
        "load_average": {"start": load_start, "end": load_end},
        "requests": args.requests, "warmup": args.warmup, "loads": args.loads,
        "server": results, "browser": browser, "command": command.strip(),
    }, indent=1, ensure_ascii=False))
    print(f"Results: {(OUT / 'kanban.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
