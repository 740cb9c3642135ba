"""The refresh job: SQL aggregation → engine → dated snapshots and lifecycle stages."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from guanxi.analytics import jobs
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
