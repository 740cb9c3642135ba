"""The refresh job: SQL aggregation → engine → dated snapshots and lifecycle stages."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from guanxi.analytics import jobs, services
from guanxi.analytics.models import ModelRun, ScoreSnapshot
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.sales.models import Order, OrderReturn

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def shop(system_actor, users):
    """60 customers with purchase histories of different shapes, plus 5 who never bought."""
    rng = random.Random(3)
    ids = customer_services.customer_bulk_create(
        actor=system_actor,
        records=[{"data": {"name": f"客户{i}", "owner": users["sales1"].pk}} for i in range(65)],
    )
    orders = []
    for i, cid in enumerate(ids[:60]):
        n = 1 + (i % 8)
        last_gap = 10 if i % 3 else 400  # a third lapsed long ago
        for k in range(n):
            day = AS_OF - dt.timedelta(days=last_gap + 30 * k + rng.randrange(5))
            amount = Decimal(str(round(50 + 20 * (i % 10) + rng.random() * 10, 2)))
            orders.append(
                Order(
                    number=f"T{i}-{k}",
                    customer_id=cid,
                    owner=users["sales1"],
                    team=users["sales1"].team,
                    total=amount,
                    total_cny=amount,
                    ordered_at=dt.datetime.combine(day, dt.time(12), tzinfo=TZ),
                )
            )
    Order.objects.bulk_create(orders)
    return ids


def test_refresh_scores_every_customer(shop):
    run = jobs.refresh(as_of=AS_OF)
    assert run.status == "done" and run.n_customers == 65
    snaps = {s.customer_id: s for s in ScoreSnapshot.objects.filter(as_of=AS_OF)}
    assert len(snaps) == 65
    bought = [snaps[c] for c in shop[:60]]
    assert all(1 <= s.r_score <= 5 for s in bought if s.r_score is not None)
    assert {s.rfm_class for s in bought if s.r_score} <= {
        "important_value",
        "important_development",
        "important_retention",
        "important_win_back",
        "general_value",
        "general_development",
        "general_retention",
        "general_win_back",
    }
    assert {snaps[c].lifecycle_stage for c in shop[60:]} == {"suspect"}
    assert "lost" in {s.lifecycle_stage for s in bought}
    assert set(run.fits["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(run.fits["gamma_gamma"]["params"]) == {"p", "q", "v"}
    assert all(0 <= s.p_alive <= 1 for s in bought if s.p_alive is not None)
    assert Customer.objects.get(pk=shop[60]).lifecycle_stage == "suspect"
    lost = [s for s in bought if s.lifecycle_stage == "lost"]
    assert Customer.objects.get(pk=lost[0].customer_id).lifecycle_stage == "lost"


def test_rerun_replaces_and_returns_are_netted(shop):
    jobs.refresh(as_of=AS_OF)
    first = ScoreSnapshot.objects.get(customer_id=shop[1], as_of=AS_OF)
    assert first.frequency == 2
    order = Order.objects.filter(customer_id=shop[1]).first()
    OrderReturn.objects.create(
        order=order, kind="refund", amount=order.total, amount_cny=order.total_cny
    )
    jobs.refresh(as_of=AS_OF)
    assert ScoreSnapshot.objects.filter(as_of=AS_OF).count() == 65
    assert ModelRun.objects.filter(as_of=AS_OF).count() == 1
    second = ScoreSnapshot.objects.get(customer_id=shop[1], as_of=AS_OF)
    assert second.frequency == first.frequency - 1


def test_cancelled_and_future_orders_ignored(shop, users):
    cid = shop[61]
    for k, (status, day) in enumerate(
        [("cancelled", AS_OF), ("confirmed", AS_OF + dt.timedelta(days=3))]
    ):
        Order.objects.create(
            number=f"X{k}",
            customer_id=cid,
            owner=users["sales1"],
            total=Decimal("10"),
            total_cny=Decimal("10"),
            status=status,
            ordered_at=dt.datetime.combine(day, dt.time(9), tzinfo=TZ),
        )
    jobs.refresh(as_of=AS_OF)
    assert ScoreSnapshot.objects.get(customer_id=cid, as_of=AS_OF).frequency == 0


def test_partial_return_lowers_the_days_spend(shop):
    jobs.refresh(as_of=AS_OF)
    before = ScoreSnapshot.objects.get(customer_id=shop[4], as_of=AS_OF)
    order = Order.objects.filter(customer_id=shop[4]).order_by("-ordered_at").first()
    OrderReturn.objects.create(order=order, kind="refund", amount=Decimal("5.25"),
                               amount_cny=Decimal("5.25"))
    jobs.refresh(as_of=AS_OF)
    after = ScoreSnapshot.objects.get(customer_id=shop[4], as_of=AS_OF)
    assert after.frequency == before.frequency
    assert after.monetary == before.monetary - Decimal("5.25")


def _monthly(cid, users, *, per_month: int, month_total: Decimal, months: int = 12):
    orders = []
    for m in range(months):
        for k in range(per_month):
            day = AS_OF - dt.timedelta(days=30 * m + 3 + 6 * k)
            amount = (month_total / per_month).quantize(Decimal("0.01"))
            orders.append(Order(number=f"M{cid}-{m}-{k}", customer_id=cid, owner=users["sales1"],
                                total=amount, total_cny=amount,
                                ordered_at=dt.datetime.combine(day, dt.time(10), tzinfo=TZ)))
    Order.objects.bulk_create(orders)


def test_clv_with_intent_x5_and_open_pipeline(shop, users, system_actor):
    """X5 in the application: A buys ¥1,000 a month in 5 purchases and is seeking other
    suppliers from three months on; B buys ¥500 a month in 3 purchases and plans to buy more.
    The model CLV ranks A first; the CLV with intent ranks B first. An open opportunity adds
    its weighted amount."""
    from guanxi.sales.models import Opportunity, Pipeline

    a, b = customer_services.customer_bulk_create(actor=system_actor, records=[
        {"data": {"name": "甲公司", "owner": users["sales1"].pk}},
        {"data": {"name": "乙公司", "owner": users["sales1"].pk}},
    ])
    _monthly(a, users, per_month=5, month_total=Decimal("1000"))
    _monthly(b, users, per_month=3, month_total=Decimal("500"))
    Customer.objects.filter(pk=a).update(purchase_intent="leaving",
                                         intent_from=AS_OF + dt.timedelta(days=91))
    Customer.objects.filter(pk=b).update(purchase_intent="more")
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.filter(is_won=False, is_lost=False).order_by("position").first()
    Opportunity.objects.create(name="扩容", customer_id=shop[0], pipeline=pipeline, stage=stage,
                               owner=users["sales1"], amount=Decimal("10000"),
                               amount_cny=Decimal("10000"), probability=Decimal("0.5"),
                               expected_close=AS_OF)
    jobs.refresh(as_of=AS_OF)
    snap = {s.customer_id: s for s in ScoreSnapshot.objects.filter(as_of=AS_OF)}
    assert snap[a].monetary > snap[b].monetary and snap[a].clv > snap[b].clv
    assert snap[b].clv_intent > snap[a].clv_intent
    assert snap[a].clv_intent < snap[a].clv and snap[b].clv_intent > snap[b].clv
    # The opportunity closes today: half its amount, undiscounted.
    assert snap[shop[0]].clv_intent == snap[shop[0]].clv + Decimal("5000.00")
    plain = [snap[c] for c in shop[1:60] if snap[c].clv is not None]
    assert plain and all(s.clv_intent == s.clv for s in plain)


def test_retention_keeps_recent_days_and_month_ends():
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=k) for k in range(0, 200, 3)]
    newest = days[-1]
    assert newest == dt.date(2026, 7, 18)
    keep = services.retained_days(days, written=newest, daily=10, monthly=3)
    # The last ten days, and the last stored day of July, June and May; nothing older.
    assert keep == {dt.date(2026, 7, 9), dt.date(2026, 7, 12), dt.date(2026, 7, 15), newest,
                    dt.date(2026, 6, 30), dt.date(2026, 5, 31)}
    # A backfilled day is kept on the run that writes it.
    assert dt.date(2026, 2, 10) in services.retained_days(
        days, written=dt.date(2026, 2, 10), daily=10, monthly=3)
    assert services.retained_days(days, written=newest, daily=0, monthly=0) == {newest}


def test_refresh_prunes_days_outside_the_retention(shop, settings):
    settings.ANALYTICS_KEEP_DAILY_DAYS = 2
    settings.ANALYTICS_KEEP_MONTHLY_MONTHS = 1
    for day in (dt.date(2026, 5, 30), dt.date(2026, 6, 10), dt.date(2026, 6, 29), AS_OF):
        jobs.refresh(as_of=day)
    kept = sorted(set(ScoreSnapshot.objects.values_list("as_of", flat=True)))
    assert kept == [dt.date(2026, 6, 29), AS_OF]
    assert sorted(ModelRun.objects.values_list("as_of", flat=True)) == kept
    settings.ANALYTICS_KEEP_MONTHLY_MONTHS = 2
    jobs.refresh(as_of=dt.date(2026, 7, 3))
    kept = sorted(set(ScoreSnapshot.objects.values_list("as_of", flat=True)))
    assert kept == [AS_OF, dt.date(2026, 7, 3)]  # 06-29 is neither recent nor a month's last


def _day_tables() -> list[tuple[str, bool]]:
    """PostgreSQL: the snapshot table's partitions (name, attached)."""
    from django.db import connection

    from guanxi.analytics import partitions

    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, c.relispartition FROM pg_class c "
                       "WHERE c.relkind = 'r' AND c.relname LIKE %s ORDER BY 1",
                       [f"{partitions.PARENT}%"])
        return cursor.fetchall()


def test_rerun_replaces_rows_written_one_by_one(shop):
    """Snapshots written one by one for a day (loaded by hand, say) are replaced by that
    day's refresh, not duplicated, and a rerun replaces the refresh's own rows. On PostgreSQL,
    where each day is a partition of its own, the rerun swaps in a new partition, carrying
    the model's indexes, and drops a staging table a stopped refresh left behind."""
    from django.db import connection

    from guanxi.analytics import partitions

    postgres = connection.vendor == "postgresql"
    early = ModelRun.objects.create(as_of=AS_OF, engine_version="x", status="done")
    ScoreSnapshot.objects.create(run=early, customer_id=shop[1], as_of=AS_OF, frequency=99)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {partitions.PARENT}_d20260101_r1 (x int)")
    jobs.refresh(as_of=AS_OF)
    assert ScoreSnapshot.objects.filter(as_of=AS_OF).count() == 65
    assert ScoreSnapshot.objects.get(customer_id=shop[1], as_of=AS_OF).frequency == 2
    assert not ModelRun.objects.filter(pk=early.pk).exists()
    first_ids = set(ScoreSnapshot.objects.values_list("id", flat=True))
    jobs.refresh(as_of=AS_OF)
    assert ScoreSnapshot.objects.filter(as_of=AS_OF).count() == 65
    assert first_ids.isdisjoint(ScoreSnapshot.objects.values_list("id", flat=True))
    # The customer page and the segment queries read the same rows through the ORM.
    assert ScoreSnapshot.objects.filter(customer_id=shop[0]).count() == 1
    if postgres:
        assert _day_tables() == [(f"{partitions.PARENT}_d20260630", True),
                                 (f"{partitions.PARENT}_default", True)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s",
                           [f"{partitions.PARENT}_d20260630"])
            assert cursor.fetchone()[0] == 6  # key, customer-day, three as_of indexes, run
