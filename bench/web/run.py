"""Load-test the customer pages and API against a database made by bench/web/generate.py.

Starts ``guanxi serve --production`` (gunicorn, 2 sync workers, CONN_MAX_AGE=600, REDIS_URL
for the cache and sessions as docs/deployment.md sets up production) on a free loopback port, signs in as sales1 (team East) and takes an API token for sales1, checks every
target once (status 200 and the expected rows), then runs wrk against each target with 8
connections: a warm-up (3 s) and a measured run (20 s). It prints requests/s, latency
percentiles, the CPU each request costs in the application and in the database, how much CPU the
load generator itself took (it shares the machine's cores with the server), and the commands to
reproduce. A run with any response other than 200, or any socket error, is marked invalid.

    .venv/bin/python bench/web/run.py                                 # PostgreSQL bench database
    .venv/bin/python bench/web/run.py --database-url sqlite:///$PWD/bench/out/guanxi-bench-100000.sqlite3

Needs wrk (Debian: apt-get install wrk). Results also go to bench/out/web-<database>.json.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import resource
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
LUA = Path(__file__).resolve().parent / "wrk.lua"
GUANXI = Path(sys.executable).parent / "guanxi"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
USERNAME, PASSWORD = "sales1", "guanxi-demo"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    key: str
    label: str
    path: str
    auth: str  # "session" or "token"
    goal: bool  # whether the p95 target applies
    rotate: bool = False  # the path is a template over customer ids


TARGETS = [
    Target("list_html", "customer list, first page (HTML, 50 rows)", "/customers/", "session",
           True),
    Target("search_html", "quick search `zs` (HTML fragment, 20 rows)",
           "/customers/search/?q=zs", "session", True),
    Target("search_api", "quick search `zs` (JSON API, 20 rows)",
           "/api/v1/customers/search?q=zs", "token", True),
    Target("customer_html", "customer page (HTML, rotating over {ids} ids)", "/customers/{id}/",
           "session", True, rotate=True),
    Target("list_api", "customer list, first page (JSON API, 50 rows)",
           "/api/v1/customers?limit=50", "token", False),
    Target("timeline_html", "customer page's timeline, loaded after it (HTML fragment, 20 "
           "entries, rotating over {ids} ids)", "/customers/{id}/timeline/", "session", False,
           rotate=True),
    Target("value_html", "customer page's value card, loaded after it (HTML fragment, "
           "rotating over {ids} ids)", "/analytics/customers/{id}/", "session", False,
           rotate=True),
]


@dataclass
class Result:
    key: str
    label: str
    path: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non200: int
    socket_errors: int
    timeouts: int
    app_cpu_ms: float  # per request, gunicorn workers
    db_cpu_ms: float | None  # per request, PostgreSQL backends (None: in-process SQLite)
    wrk_cpu_pct: float  # of one core
    machine_busy_pct: float  # of all cores
    other_cores: float  # CPU taken by other processes on the machine during the run, in cores
    goal_ms: float | None
    valid: bool = field(default=True)
    disturbed: bool = field(default=False)

    @property
    def met(self) -> bool | None:
        if self.goal_ms is None:
            return None
        return self.valid and self.p95_ms < self.goal_ms


# Processes and CPU ------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


def machine_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def wait_idle(limit: float, max_wait: float) -> float:
    """Wait (up to ``max_wait`` s) until other processes use less than ``limit`` cores over
    2 s while the server is idle; return the last reading in cores."""
    started = time.monotonic()
    reported = started
    while True:
        busy0, total0 = machine_times()
        time.sleep(2)
        busy1, total1 = machine_times()
        cores = (busy1 - busy0) / max(total1 - total0, 1) * (os.cpu_count() or 1)
        now = time.monotonic()
        if cores < limit or now - started >= max_wait:
            return cores
        if now - reported >= 30:
            print(f"    waiting {now - started:.0f} s: other processes use {cores:.2f} cores",
                  flush=True)
            reported = now


def code_version() -> str:
    """The commit the application code comes from, marked when src/ has local changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with local changes in src/" if dirty else "")


def niced(cmd: list[str], nice: int) -> list[str]:
    return ["nice", "-n", str(nice), *cmd] if nice else cmd


def set_group_nice(pid: int, nice: int) -> None:
    """With the kernel's session autogroups, a process's nice value counts only within its
    session: give the whole session (started with start_new_session) the same niceness."""
    group = Path(f"/proc/{pid}/autogroup")
    if nice and group.exists():
        try:
            group.write_text(str(nice))
        except OSError as exc:
            print(f"    cannot set the scheduling group's nice value: {exc}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``guanxi serve --production`` in its own process group; stopped by its pid."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path, nice: int):
        self.cmd = [str(GUANXI), "serve", "--production", "--port", str(port),
                    "--workers", str(workers)]
        self.base = f"http://127.0.0.1:{port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen(niced(self.cmd, nice), env=env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        set_group_nice(self.proc.pid, nice)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"The server exited ({self.proc.returncode}); see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("The server did not answer /healthz in time.")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# Sign-in and checks -------------------------------------------------------------------------

def login(base: str, username: str = USERNAME) -> str:
    """Sign in through the login form; returns the session id."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "/login/") as r:
        page = r.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        raise SystemExit("No CSRF token in the login form.")
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1),
                                   "username": username, "password": PASSWORD}).encode()
    with opener.open(urllib.request.Request(base + "/login/", data=data,
                                            headers={"Referer": base + "/login/"})):
        pass
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if not session:
        raise SystemExit(f"Signing in as {username} failed.")
    return session


def fetch(base: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    req = urllib.request.Request(base + path, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check(target: Target, status: int, body: str) -> str | None:
    """Why a response is not the expected page, or None."""
    if status != 200:
        return f"status {status}"
    rows = {
        "list_html": (body.count('<tr><td><a href="/customers/'), 50),
        "search_html": (body.count('class="list-group-item list-group-item-action" href='), 20),
        "search_api": (len(json.loads(body)) if body.startswith("[") else -1, 20),
        "list_api": (len(json.loads(body).get("items", [])) if body.startswith("{") else -1,
                     50),
        "customer_html": (body.count('id="customer-name"'), 1),
        "timeline_html": (min(body.count('class="list-group-item timeline-'), 1), 1),
        "value_html": (body.count('id="scores"'), 1),
    }[target.key]
    if rows[0] != rows[1]:
        return f"{rows[0]} rows instead of {rows[1]}"
    return None


# Load ---------------------------------------------------------------------------------------

def wrk_command(args, url: str, header: str, duration: float) -> list[str]:
    return ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d",
            f"{duration:g}s", "--timeout", f"{args.timeout:g}s", "--latency", "-s", str(LUA),
            "-H", header, url]


def run_wrk(cmd: list[str], env: dict[str, str], nice: int) -> dict:
    proc = subprocess.Popen(niced(cmd, nice), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=bool(nice))
    set_group_nice(proc.pid, nice)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
    line = next((ln for ln in out.splitlines() if ln.startswith("GUANXI_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out}\n{err}")
    return json.loads(line.removeprefix("GUANXI_RESULT "))


def db_backends(vendor: str) -> list[int]:
    """The PostgreSQL backends serving the benchmark database (the workers' connections)."""
    if vendor != "postgresql":
        return []
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        return [r[0] for r in cur.fetchall()]


def measure(args, server: Server, target: Target, url: str, header: str, env: dict[str, str],
            vendor: str, goal: float) -> tuple[Result, list[str]]:
    warm = wrk_command(args, url, header, args.warmup)
    cmd = wrk_command(args, url, header, args.duration)
    wait_idle(args.max_other, args.max_wait)
    run_wrk(warm, env, args.nice)
    app_pids = server.workers()
    db_pids = db_backends(vendor)
    app0 = sum(cpu_seconds(p) for p in app_pids)
    db0 = sum(cpu_seconds(p) for p in db_pids)
    busy0, total0 = machine_times()
    own0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = run_wrk(cmd, env, args.nice)
    own1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = machine_times()
    app = sum(cpu_seconds(p) for p in app_pids) - app0
    db = sum(cpu_seconds(p) for p in db_pids) - db0
    seconds = r["duration_us"] / 1e6
    n = max(r["requests"], 1)
    socket_errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    wrk_cpu = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
    busy = (busy1 - busy0) / TICK
    other = max(0.0, (busy - app - db - wrk_cpu) / seconds)
    result = Result(
        key=target.key, label=target.label.format(ids=args.ids), path=target.path,
        requests=r["requests"], seconds=round(seconds, 2), rps=round(r["requests"] / seconds, 1),
        p50_ms=r["p50_us"] / 1000, p90_ms=r["p90_us"] / 1000, p95_ms=r["p95_us"] / 1000,
        p99_ms=r["p99_us"] / 1000, max_ms=r["max_us"] / 1000, non200=r["non200"],
        socket_errors=socket_errors, timeouts=r["timeout"], app_cpu_ms=round(app / n * 1000, 2),
        db_cpu_ms=round(db / n * 1000, 2) if vendor == "postgresql" else None,
        wrk_cpu_pct=round(wrk_cpu / seconds * 100, 1),
        machine_busy_pct=round((busy1 - busy0) / max(total1 - total0, 1) * 100, 1),
        other_cores=round(other, 2), goal_ms=goal if target.goal else None,
        valid=r["non200"] == 0 and socket_errors == 0 and r["requests"] > 0,
        disturbed=other > args.max_other,
    )
    return result, cmd


# Report -------------------------------------------------------------------------------------

def table(results: list[Result], vendor: str, timeout: float) -> str:
    head = ("| request | requests/s | p50 | p95 | p99 | CPU per request (app + db) "
            "| wrk CPU | other load | target p95 | met |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        cpu = f"{r.app_cpu_ms:.1f} ms" if r.db_cpu_ms is None else \
            f"{r.app_cpu_ms:.1f} + {r.db_cpu_ms:.1f} ms"
        if vendor != "postgresql":
            cpu += " (app incl. SQLite)"
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        if r.disturbed:
            met += " (disturbed)"
        if not r.valid:
            met = f"INVALID ({r.non200} non-200, {r.socket_errors} socket errors"
            met += f", {r.timeouts} over {timeout:g} s)" if r.timeouts else ")"
        goal = f"< {r.goal_ms:g} ms" if r.goal_ms else "—"
        lines.append(f"| {r.label} | {r.rps:,.0f} | {r.p50_ms:.1f} ms | {r.p95_ms:.1f} ms "
                     f"| {r.p99_ms:.1f} ms | {cpu} | {r.wrk_cpu_pct:.0f}% "
                     f"| {r.other_cores:.2f} cores | {goal} | {met} |")
    return "\n".join(lines)


def redact(cmd: list[str], secrets: dict[str, str]) -> str:
    text = shlex.join(cmd)
    for value, name in secrets.items():
        text = text.replace(value, name)
    return text.replace(str(ROOT) + "/", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS),
                        help="the server's REDIS_URL, as in production (sessions and reference "
                             "data in Redis); '' for the database cache")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--timeout", type=float, default=10,
                        help="seconds after which wrk counts a request as timed out")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--ids", type=int, default=2000,
                        help="customer ids the customer page rotates over")
    parser.add_argument("--goal-ms", type=float, default=None,
                        help="p95 target (default 50 ms on PostgreSQL, 100 ms on SQLite)")
    parser.add_argument("--max-other", type=float, default=0.25,
                        help="CPU (in cores) other processes may use during a run; a run "
                             "above it is marked disturbed and repeated")
    parser.add_argument("--max-wait", type=float, default=300,
                        help="seconds to wait for the machine to go quiet before a run")
    parser.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run")
    parser.add_argument("--nice", type=int, default=0,
                        help="run the server and wrk at this niceness, with their own "
                             "scheduling groups (negative: ahead of other processes on a shared "
                             "machine; needs root). The database server keeps its own.")
    parser.add_argument("--migrate", action="store_true",
                        help="apply the code's new migrations to the database first")
    parser.add_argument("--only", nargs="*", choices=[t.key for t in TARGETS],
                        help="run only these targets")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)

    # Stop the server on any exit, also when killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    env = {**os.environ, "DATABASE_URL": args.database_url, "GUANXI_DEV": "1",
           "CONN_MAX_AGE": "600", "DJANGO_SETTINGS_MODULE": "guanxi.settings",
           "REDIS_URL": args.redis_url}
    env.pop("DEBUG", None)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from guanxi.core.models import User
    from guanxi.customers.models import Customer

    vendor = connection.vendor
    goal = args.goal_ms or (50.0 if vendor == "postgresql" else 100.0)
    user = User.objects.get(username=USERNAME)
    total = Customer.objects.count()
    last = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    in_team = Customer.objects.filter(team_id=user.team_id).count()
    # Customers of sales1's team, spread over the whole table.
    rng = random.Random(7)
    candidates = rng.sample(range(1, last + 1), min(last, args.ids * 4))
    ids = list(Customer.objects.filter(team_id=user.team_id, id__in=candidates)
               .values_list("id", flat=True)[: args.ids])
    rng.shuffle(ids)
    if not ids:
        raise SystemExit("No customers in sales1's team; run bench/web/generate.py first.")
    args.ids = len(ids)
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        if not args.migrate:
            raise SystemExit("The database lacks migrations of this code: pass --migrate, or "
                             "run bench/web/generate.py again.")
        subprocess.run([str(GUANXI), "migrate"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    made = subprocess.run([str(GUANXI), "token", USERNAME, "--name", "bench-web"], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    if made.returncode != 0:
        raise SystemExit(f"`guanxi token {USERNAME}` failed:\n{made.stderr}")
    token = made.stdout.strip()

    OUT.mkdir(parents=True, exist_ok=True)
    version = code_version()
    port = free_port()
    name = "postgresql" if vendor == "postgresql" else "sqlite"
    server = Server(env, port, args.workers, OUT / f"web-{name}-server.log", args.nice)
    results: list[Result] = []
    commands: list[str] = []
    try:
        server.wait_ready()
        session = login(server.base)
        headers = {"session": f"Cookie: sessionid={session}",
                   "token": f"Authorization: Bearer {token}"}
        secrets = {session: "$SESSION", token: "$TOKEN"}
        paths_files = {}  # kept, for the reproducing commands printed at the end
        for target in TARGETS:
            if target.rotate:
                paths = OUT / f"paths-{target.key}.txt"
                paths.write_text("\n".join(target.path.format(id=i) for i in ids) + "\n")
                paths_files[target.key] = str(paths)
        print(f"Code: {version}.")
        print(f"{vendor}: {total:,} customers, {in_team:,} in {USERNAME}'s team; server "
              f"{server.base}, {args.workers} workers; wrk {args.threads} thread(s), "
              f"{args.connections} connections, {args.warmup:g} s warm-up + "
              f"{args.duration:g} s; {os.cpu_count()} cores shared by server, database and wrk"
              + (f"; server and wrk at nice {args.nice}." if args.nice else "."))
        for target in TARGETS:
            if args.only and target.key not in args.only:
                continue
            path = target.path.format(id=ids[0])
            header = headers[target.auth].split(": ", 1)
            status, body = fetch(server.base, path, {header[0]: header[1]})
            problem = check(target, status, body)
            if problem:
                raise SystemExit(f"{target.key}: GET {path} is not the expected page: {problem}")
            wrk_env = {**os.environ, "GUANXI_WRK_PATHS": paths_files.get(target.key, "")}
            url = server.base + (target.path if not target.rotate else "/customers/")
            for attempt in range(args.retries + 1):
                result, cmd = measure(args, server, target, url, headers[target.auth],
                                      wrk_env, vendor, goal)
                if not result.disturbed:
                    break
                print(f"    disturbed: other processes took {result.other_cores:.2f} cores"
                      f"{'; again' if attempt < args.retries else ''}", flush=True)
            results.append(result)
            prefix = (f"GUANXI_WRK_PATHS=bench/out/paths-{target.key}.txt " if target.rotate
                      else "")
            commands.append(prefix + redact(cmd, secrets))
            print(f"  {result.key}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                  f"p95 {result.p95_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                  f"non-200 {result.non200}, socket errors {result.socket_errors}, "
                  f"machine {result.machine_busy_pct:.0f}% busy, other processes "
                  f"{result.other_cores:.2f} cores", flush=True)
    finally:
        server.stop()

    print()
    print(table(results, vendor, args.timeout))
    print(f"\nCPU per request: gunicorn workers' CPU time (and the PostgreSQL backends') during "
          f"the measured run divided by the requests. wrk CPU: the load generator's share of "
          f"one core, taken from the same {os.cpu_count()} cores. Other load: CPU used by every "
          f"other process on the machine meanwhile (a run above {args.max_other:g} cores is "
          f"disturbed and repeated).")
    print("\nTo reproduce (sign in as sales1 for $SESSION; $TOKEN from "
          "`.venv/bin/guanxi token sales1`; the server from "
          f"`{redact(server.cmd, {})}` with DATABASE_URL, GUANXI_DEV=1, CONN_MAX_AGE=600, "
          f"REDIS_URL={args.redis_url or '(none: database cache)'};"
          " bench/out/paths-*.txt hold the paths of customers of sales1's team, one a line):")
    for c in commands:
        print("  " + c)
    out = args.out or OUT / f"web-{name}.json"
    out.write_text(json.dumps({
        "database": vendor, "customers": total, "customers_in_team": in_team,
        "cores": os.cpu_count(), "workers": args.workers, "connections": args.connections,
        "wrk_threads": args.threads, "warmup_s": args.warmup, "duration_s": args.duration,
        "nice": args.nice,
        "date": time.strftime("%Y-%m-%d"), "code": version, "goal_p95_ms": goal,
        "results": [asdict(r) | {"met": r.met} for r in results], "commands": commands,
    }, indent=2, ensure_ascii=False))
    print(f"\nResults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0 if all(r.valid for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
