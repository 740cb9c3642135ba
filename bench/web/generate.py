"""Create a database of customers for the web benchmark (bench/web/run.py).

PostgreSQL (default): a new database ``guanxi_bench`` with 1,000,000 customers, loaded in SQL
(INSERT ... SELECT over generate_series) in a few minutes. SQLite: a file under bench/out/ with
100,000 customers, loaded with the same statements over a recursive series.

Steps: create the empty database, ``guanxi migrate``, ``guanxi demo --customers 0`` (the demo
users and teams, no customers), then load in SQL and ANALYZE. Each customer has a realistic
Chinese (or English, or company) name with the pinyin keys the application itself computes
(``guanxi.core.text.pinyin_keys``, run once in Python on a table of names that SQL then picks
from), a mobile and an email contact point (``primary_phone``/``primary_email`` filled the way
the services fill them), a work address (``province``), and the audit record of its creation.
Customers alternate between the teams East (owners sales1 and manager) and North (sales2).
Some customers are called 张三, so searching ``zs`` always finds exact matches.

    .venv/bin/python bench/web/generate.py                      # PostgreSQL, 1,000,000
    .venv/bin/python bench/web/generate.py --db sqlite          # SQLite, 100,000

It prints the DATABASE_URL to give to bench/web/run.py.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
GUANXI = Path(sys.executable).parent / "guanxi"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_PG_NAME = "guanxi_bench"
DEFAULT_COUNTS = {"postgres": 1_000_000, "sqlite": 100_000}
# Marks a PostgreSQL database this script created, so that it may drop it again.
PG_COMMENT = "Guanxi web benchmark data (bench/web/generate.py)"

#: The table of names customers pick from (with repeats, as in life: many 张伟).
NAME_SLOTS = 131_072
#: Every this many slots holds 张三 (about 120 per million customers).
ZHANG_SAN_EVERY = 8_192
ORGANISATION_SHARE = 0.08
ENGLISH_SHARE = 0.03
# Characters that begin and end two-character given names (combined with the demo's names).
GIVEN_FIRST = "子思雨晓志建国海文春俊嘉一欣家浩明宇佳梓雅诗天博晨永立少淑"
GIVEN_SECOND = "涵轩怡萱琪然轩杰辉军华平伟强婷丽敏静涛宁颖帅松生霞瑶彤阳峰鑫"
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "example.cn", "gmail.com"]
SOURCE_CHANNELS = ["conversation", "event", "website", "app", "wechat", "referral", "partner",
                   "report"]
# Weighted by repetition.
STAGES = ["suspect"] * 3 + ["prospect"] * 3 + ["first_time"] * 2 + ["repeat", "loyal", "lost"]
INCOME = ["low", "middle", "middle", "upper", "high"]
EDUCATION = ["secondary", "college", "bachelor", "bachelor", "master"]
MOTIVES = ["practical", "novelty", "convenience", "status"]
PERSONALITIES = ["extrovert", "introvert", "cautious", "impulsive"]
COMPANY_SIZES = ["micro", "small", "medium", "large"]
RELATIONSHIPS = ["buyer_seller", "preferred_supply", "partnership", "strategic_alliance"]
ORG_RELATIONS = ["consumer", "consumer", "intermediary", "public"]
#: Customers are created over seven years, ids in time order.
FIRST_CREATED = "2019-01-01 00:00:00"
CREATED_SPAN_SECONDS = 7 * 365 * 86_400
#: Pseudo-random attributes: (i * A + B) mod P, one (A, B) per attribute; P = 2^31 - 1.
PRIME = 2_147_483_647
PHONE_PRIME = 99_999_989  # below 10^8: every customer gets a different 8-digit suffix
MULTIPLIERS = [1_103_515_245, 1_664_525_013, 1_597_334_677, 1_219_836_227, 2_027_382_049,
               1_812_433_253, 1_181_783_497, 1_401_968_819, 1_922_049_613, 1_531_568_941,
               1_373_245_163, 1_714_636_915, 1_013_904_223]


# Names ------------------------------------------------------------------------------------

def name_table(seed: int) -> list[tuple[int, str, str, str, str, str]]:
    """(slot, name, pinyin, initials, kind, industry) rows; pinyin from the application's own
    ``pinyin_keys``, computed once per distinct name."""
    from guanxi.core.text import pinyin_keys
    from guanxi.customers.demo import (
        COMPANY_PREFIX,
        COMPANY_TRADE,
        EN_FIRST,
        EN_LAST,
        GIVEN,
        PLACES,
        SURNAMES,
    )

    rng = random.Random(seed)
    # Surnames in the demo's order, roughly by frequency: Zipf-like weights.
    surname_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(SURNAMES))]
    # 三 only in the 张三 slots (a placeholder name, not a common given name).
    given = list(dict.fromkeys([*(g for g in GIVEN if g != "三"),
                                *(a + b for a in GIVEN_FIRST for b in GIVEN_SECOND if a != b)]))
    single = [g for g in given if len(g) == 1]
    double = [g for g in given if len(g) > 1]
    cities = [city.rstrip("市") for places in PLACES.values() for city, _ in places]
    keys: dict[str, tuple[str, str]] = {}
    rows = []
    for slot in range(NAME_SLOTS):
        r = rng.random()
        industry = ""
        if slot % ZHANG_SAN_EVERY == 0:
            name, kind = "张三", "person"
        elif r < ORGANISATION_SHARE:
            trade, industry = rng.choice(COMPANY_TRADE)
            name = f"{rng.choice(cities)}{rng.choice(COMPANY_PREFIX)}{trade}有限公司"
            kind = "organisation"
        elif r < ORGANISATION_SHARE + ENGLISH_SHARE:
            name, kind = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}", "person"
        else:
            surname = rng.choices(SURNAMES, weights=surname_weights)[0]
            name = surname + rng.choice(single if rng.random() < 0.3 else double)
            kind = "person"
        if name not in keys:
            keys[name] = pinyin_keys(name)
        rows.append((slot, name, *keys[name], kind, industry))
    return rows


def place_table() -> tuple[list[tuple[int, str, str, str]], int, int]:
    """(slot, province, city, district) rows: East's places first, then North's."""
    from guanxi.customers.demo import EAST, NORTH, PLACES

    rows = []
    for provinces in (EAST, NORTH):
        for province in provinces:
            for city, districts in PLACES[province]:
                for district in districts:
                    rows.append((len(rows), province, city, district))
    east = sum(len(d) for p in EAST for _, d in PLACES[p])
    return rows, east, len(rows) - east


# SQL ----------------------------------------------------------------------------------------

class Dialect:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str):
        self.vendor = vendor
        self.pg = vendor == "postgresql"

    def series(self, n: int) -> tuple[str, str]:
        """(WITH prefix, FROM item) giving rows i = 1..n as 64-bit integers."""
        if self.pg:
            return "", f"generate_series(1::bigint, {n}::bigint) AS s(i)"
        return (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                f"WHERE i < {n}) ", "s")

    def timestamp(self, seconds: str) -> str:
        """FIRST_CREATED (Asia/Shanghai) plus ``seconds``, as the column stores it."""
        if self.pg:
            return (f"(timestamptz '{FIRST_CREATED}+08' "
                    f"+ make_interval(secs => ({seconds})::double precision))")
        # Django keeps UTC text in SQLite.
        return f"datetime('{FIRST_CREATED}', '-8 hours', '+' || ({seconds}) || ' seconds')"

    def date(self, days: str) -> str:
        if self.pg:
            return f"(date '1960-01-01' + ({days})::integer)"
        return f"date('1960-01-01', '+' || ({days}) || ' days')"

    def json_object(self, *pairs: tuple[str, str]) -> str:
        fn, arr = ("jsonb_build_object", "jsonb_build_array") if self.pg else \
            ("json_object", "json_array")
        inner = ", ".join(f"'{k}', {arr}(NULL, {v})" for k, v in pairs)
        return f"{fn}({inner})"

    def json_array(self, *values: str) -> str:
        return f"{'jsonb_build_array' if self.pg else 'json_array'}({', '.join(values)})"


def h(k: int, i: str = "s.i") -> str:
    """Pseudo-random non-negative integer for row ``i``, attribute ``k``."""
    return f"(({i} * {MULTIPLIERS[k]} + {7919 * (k + 1)}) % {PRIME})"


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pick(values: list[str], hashed: str) -> str:
    whens = " ".join(f"WHEN {n} THEN {quote(v)}" for n, v in enumerate(values))
    return f"(CASE {hashed} % {len(values)} {whens} END)"


def insert_sql(model, exprs: dict[str, str], from_sql: str, with_sql: str = "") -> str:
    """INSERT into ``model``'s table from ``from_sql``: ``exprs`` by column, the other
    columns their model default (or NULL)."""
    from django.db.models import NOT_PROVIDED

    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in exprs:
            value = exprs[f.column]
        elif f.primary_key:
            continue
        elif f.default is not NOT_PROVIDED and not callable(f.default):
            d = f.default
            value = ("true" if d else "false") if isinstance(d, bool) else \
                str(d) if isinstance(d, int) else quote(str(d))
        elif f.null:
            value = "NULL"
        else:
            raise RuntimeError(f"no value for {model._meta.db_table}.{f.column}")
        columns.append(f.column)
        values.append(value)
    unknown = set(exprs) - set(columns)
    if unknown:
        raise RuntimeError(f"unknown columns {sorted(unknown)}")
    return (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
            f"{with_sql}SELECT {', '.join(values)} FROM {from_sql}")


# Indexes are dropped during the load and built afterwards (much faster than live updates).

def secondary_indexes(cursor, vendor: str, tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes on ``tables`` that back no constraint."""
    if vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [tables],
        )
    else:
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                       f"AND sql IS NOT NULL AND tbl_name IN ({marks})", tables)
    return list(cursor.fetchall())


def load(n: int, seed: int) -> None:
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from guanxi.core.models import AuditRecord, Team, User
    from guanxi.customers.models import Address, ContactPoint, Customer

    d = Dialect(connection.vendor)
    users = dict(User.objects.filter(username__in=["sales1", "sales2", "manager", "system"])
                 .values_list("username", "id"))
    teams = dict(Team.objects.filter(code__in=["east", "north"]).values_list("code", "id"))
    if Customer.objects.exists():
        raise SystemExit("The database already has customers; generate into a new one.")

    step = time.perf_counter()
    names = name_table(seed)
    places, east_places, north_places = place_table()
    print(f"  name table: {len(names):,} slots, {len({r[1] for r in names}):,} distinct names, "
          f"{time.perf_counter() - step:.1f} s")

    tables = [Customer._meta.db_table, ContactPoint._meta.db_table, Address._meta.db_table,
              AuditRecord._meta.db_table]
    with transaction.atomic(), connection.cursor() as cur:
        if d.pg:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # Check foreign keys per statement, so that the indexes can be built afterwards.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("CREATE TEMP TABLE bench_names (slot integer PRIMARY KEY, name varchar(200),"
                    " pinyin varchar(200), initials varchar(60), kind varchar(12),"
                    " industry varchar(100))")
        cur.executemany("INSERT INTO bench_names VALUES (%s, %s, %s, %s, %s, %s)", names)
        cur.execute("CREATE TEMP TABLE bench_places (slot integer PRIMARY KEY,"
                    " province varchar(30), city varchar(50), district varchar(50))")
        cur.executemany("INSERT INTO bench_places VALUES (%s, %s, %s, %s)", places)
        if d.pg:
            cur.execute("ANALYZE bench_names")
            cur.execute("ANALYZE bench_places")

        indexes = secondary_indexes(cur, connection.vendor, tables)
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')

        def timed(label: str, sql: str) -> None:
            started = time.perf_counter()
            cur.execute(sql)
            print(f"  {label}: {cur.rowcount:,} rows, {time.perf_counter() - started:.1f} s")

        east = "s.i % 2 = 0"
        place = f"(CASE WHEN {east} THEN {h(0)} % {east_places} " \
                f"ELSE {east_places} + {h(0)} % {north_places} END)"
        person = "n.kind = 'person'"
        org = "n.kind = 'organisation'"
        suffix = f"substr(CAST(100000000 + (s.i * 7368787 + 1234567) % {PHONE_PRIME} AS TEXT), 2)"
        prefix = pick(["138", "139", "137", "136", "135", "150", "151", "152", "158", "159",
                       "186", "187", "188", "189", "133", "153", "180", "181", "177", "199"],
                      h(1))
        created_seconds = f"(s.i * {CREATED_SPAN_SECONDS // n} + {h(2)} % 3600)"
        exprs = {
            "id": "s.i",
            "kind": "n.kind",
            "name": "n.name",
            "name_pinyin": "n.pinyin",
            "name_initials": "n.initials",
            "relation_kind": f"(CASE WHEN {org} THEN {pick(ORG_RELATIONS, h(3))} "
                             f"ELSE 'consumer' END)",
            "consumer_type": f"(CASE WHEN {org} THEN 'industrial' ELSE 'individual' END)",
            "owner_id": f"(CASE WHEN {east} THEN (CASE WHEN {h(4)} % 10 < 7 "
                        f"THEN {users['sales1']} ELSE {users['manager']} END) "
                        f"ELSE {users['sales2']} END)",
            "team_id": f"(CASE WHEN {east} THEN {teams['east']} ELSE {teams['north']} END)",
            "source_type": f"(CASE WHEN {h(5)} % 10 < 7 THEN 'direct' ELSE 'indirect' END)",
            "source_channel": pick(SOURCE_CHANNELS, h(6)),
            "lifecycle_stage": pick(STAGES, h(7)),
            "primary_phone": f"({prefix} || ' ' || substr({suffix}, 1, 4) || ' ' "
                             f"|| substr({suffix}, 5, 4))",
            "primary_email": f"(CASE WHEN {org} THEN 'info@' || substr(n.pinyin, 1, 12) "
                             f"|| '.com.cn' ELSE n.pinyin || CAST({h(8)} % 1000 AS TEXT) "
                             f"|| '@' || {pick(EMAIL_DOMAINS, h(9))} END)",
            "province": "p.province",
            "gender": f"(CASE WHEN {person} THEN {pick(['female', 'male'], h(10))} "
                      f"ELSE '' END)",
            "birth_date": f"(CASE WHEN {person} THEN {d.date(f'{h(11)} % 16000')} END)",
            "industry": "n.industry",
            "version": "1",
            "created_at": d.timestamp(created_seconds),
            "updated_at": d.timestamp(f"{created_seconds} + {h(12)} % 7776000"),
        }
        for column, values, k in (("income_band", INCOME, 3), ("education", EDUCATION, 5),
                                  ("purchase_motive", MOTIVES, 6),
                                  ("personality", PERSONALITIES, 7)):
            exprs[column] = f"(CASE WHEN {person} THEN {pick(values, h(k))} ELSE '' END)"
        for column, values, k in (("company_size", COMPANY_SIZES, 5),
                                  ("relationship_type", RELATIONSHIPS, 6)):
            exprs[column] = f"(CASE WHEN {org} THEN {pick(values, h(k))} ELSE '' END)"
        with_sql, series = d.series(n)
        timed("customers", insert_sql(
            Customer, exprs,
            f"{series} JOIN bench_names n ON n.slot = {h(8)} % {NAME_SLOTS} "
            f"JOIN bench_places p ON p.slot = {place}", with_sql))

        for kind, value, normalized in (
                ("mobile", "c.primary_phone", "replace(c.primary_phone, ' ', '')"),
                ("email", "c.primary_email", "lower(c.primary_email)")):
            timed(f"{kind} contact points", insert_sql(ContactPoint, {
                "customer_id": "c.id", "kind": f"'{kind}'", "value": value,
                "normalized": normalized, "is_primary": "true", "created_at": "c.created_at",
            }, f"{Customer._meta.db_table} c ORDER BY c.id"))

        street = pick(["人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "长江路",
                       "黄河路", "科技园路", "文化路"], h(9))
        timed("addresses", insert_sql(Address, {
            "customer_id": "s.i", "kind": "'work'", "province": "p.province", "city": "p.city",
            "district": "p.district",
            "street": f"{street} || CAST({h(10)} % 998 + 1 AS TEXT) || '号'",
            "postcode": f"CAST(100000 + {h(11)} % 750000 AS TEXT)", "is_primary": "true",
        }, f"{series} JOIN bench_places p ON p.slot = {place}", with_sql))

        changes = d.json_object(
            ("kind", "c.kind"), ("name", "c.name"), ("owner", "c.owner_id"),
            ("team", "c.team_id"), ("province", "c.province"),
            ("primary_phone", "c.primary_phone"), ("primary_email", "c.primary_email"),
            ("contact_points", d.json_array("c.primary_phone", "c.primary_email")))
        timed("audit records", insert_sql(AuditRecord, {
            "at": "c.created_at", "actor_id": str(users["system"]), "actor_label": "'system'",
            "channel": "'import'", "action": "'create'", "model": "'customers.customer'",
            "object_id": "CAST(c.id AS TEXT)", "object_repr": "c.name", "customer_id": "c.id",
            "changes": changes,
        }, f"{Customer._meta.db_table} c ORDER BY c.id"))

        started = time.perf_counter()
        for _, create in indexes:
            cur.execute(create)
        print(f"  {len(indexes)} indexes rebuilt: {time.perf_counter() - started:.1f} s")
        cur.execute("DROP TABLE bench_names")
        cur.execute("DROP TABLE bench_places")
        if d.pg:
            for sql in connection.ops.sequence_reset_sql(
                    no_style(), [Customer, ContactPoint, Address, AuditRecord]):
                cur.execute(sql)

    started = time.perf_counter()
    with connection.cursor() as cur:
        if d.pg:
            for table in tables:
                cur.execute(f"VACUUM (ANALYZE) {table}")
        else:
            cur.execute("ANALYZE")
    print(f"  {'VACUUM ANALYZE' if d.pg else 'ANALYZE'}: {time.perf_counter() - started:.1f} s")


# Databases --------------------------------------------------------------------------------

def create_postgres(server: str, name: str, force: bool) -> str:
    import psycopg

    parts = urlsplit(server)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", [name]).fetchone()
        if row is not None:
            if row[0] != PG_COMMENT and not force:
                raise SystemExit(f"Database {name!r} exists and was not made by this script; "
                                 "pass --force to replace it.")
            print(f"Dropping the existing database {name}.")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{PG_COMMENT}'")
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def create_sqlite(path: Path, force: bool) -> str:
    path = path.resolve()
    if path.exists() and OUT.resolve() not in path.parents and not force:
        raise SystemExit(f"{path} exists outside bench/out/; pass --force to replace it.")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def guanxi(env: dict[str, str], *args: str) -> bool:
    """Run a ``guanxi`` command; False (with its error shown) if it failed."""
    started = time.perf_counter()
    done = subprocess.run([str(GUANXI), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    print(f"guanxi {' '.join(args)}: {time.perf_counter() - started:.1f} s")
    if done.returncode != 0:
        print("\n".join(done.stderr.strip().splitlines()[-5:]), file=sys.stderr)
    return done.returncode == 0


def check_demo_users() -> None:
    """The users and teams the benchmark relies on (``guanxi demo`` creates them first)."""
    from guanxi.core.models import Team, User

    users = set(User.objects.filter(username__in=["sales1", "sales2", "manager"],
                                    is_active=True).values_list("username", flat=True))
    teams = set(Team.objects.filter(code__in=["east", "north"]).values_list("code", flat=True))
    if len(users) < 3 or len(teams) < 2:
        raise SystemExit("The demo users and teams are missing; `guanxi demo` failed.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--customers", type=int, default=None,
                        help="default 1,000,000 on PostgreSQL, 100,000 on SQLite")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help=f"PostgreSQL server URL (default {DEFAULT_SERVER})")
    parser.add_argument("--name", default=DEFAULT_PG_NAME, help="PostgreSQL database name")
    parser.add_argument("--path", type=Path, default=None,
                        help="SQLite file (default bench/out/guanxi-bench-N.sqlite3)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the name table")
    parser.add_argument("--force", action="store_true",
                        help="replace a database this script did not create")
    args = parser.parse_args(argv)
    n = args.customers or DEFAULT_COUNTS[args.db]
    if n < 2:
        parser.error("--customers must be at least 2")

    started = time.perf_counter()
    if args.db == "postgres":
        url = create_postgres(args.server, args.name, args.force)
    else:
        url = create_sqlite(args.path or OUT / f"guanxi-bench-{n}.sqlite3", args.force)
    env = {**os.environ, "DATABASE_URL": url, "GUANXI_DEV": "1",
           "DJANGO_SETTINGS_MODULE": "guanxi.settings"}
    if not guanxi(env, "migrate"):
        raise SystemExit("`guanxi migrate` failed.")
    demo_ok = guanxi(env, "demo", "--customers", "0")

    os.environ.update(env)
    import django

    django.setup()
    check_demo_users()
    if not demo_ok:
        print("`guanxi demo --customers 0` failed after creating the users and teams (above); "
              "the customers load without the rest of the demo data.", file=sys.stderr)
    print(f"Loading {n:,} customers:")
    load(n, args.seed)
    print(f"Done in {time.perf_counter() - started:.0f} s.\nDATABASE_URL={url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
