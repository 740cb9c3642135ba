"""The demo's sales data: products, exchange rates, two years of orders that look like a
shop's (Pareto-shaped spend, lapsing customers, seasonal peaks), loaded once."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.db.models import Max, OuterRef, Subquery, Sum
from django.utils import timezone

from guanxi.core.access import Actor
from guanxi.core.demo import ensure_users
from guanxi.core.models import AuditRecord
from guanxi.customers.demo import customer_records
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_bulk_create
from guanxi.sales import demo
from guanxi.sales.models import ExchangeRate, Order, OrderLine, OrderReturn, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(db):
    users = ensure_users()
    records = customer_records(300, [users["sales1"].pk, users["manager"].pk],
                               [users["sales2"].pk], seed=5)
    customer_bulk_create(actor=Actor.system(), records=records)
    out = io.StringIO()
    demo.load(users=users, seed=5, stdout=out)
    return out.getvalue()


def test_products_rates_and_orders_are_loaded_once_for_the_owners(loaded):
    assert "demo orders" in loaded
    assert Product.objects.count() == len(demo.PRODUCTS) >= 30
    assert Product.objects.get(sku="FD-RICE5").tax_rate.code == "vat9"
    assert set(ExchangeRate.objects.values_list("currency", flat=True)) == {"USD", "EUR", "HKD"}
    counts = (Order.objects.count(), OrderLine.objects.count(), OrderReturn.objects.count(),
              AuditRecord.objects.count(), ExchangeRate.objects.count())
    assert counts[0] > 1000 and counts[2] > 10
    out = io.StringIO()
    demo.load(users=ensure_users(), seed=5, stdout=out)
    assert "already present" in out.getvalue()
    assert (Order.objects.count(), OrderLine.objects.count(), OrderReturn.objects.count(),
            AuditRecord.objects.count(), ExchangeRate.objects.count()) == counts
    # Each order belongs to its customer's owner; the orders span two years to today.
    mismatched = Order.objects.exclude(owner_id=Subquery(Customer.objects.filter(
        pk=OuterRef("customer_id")).values("owner_id")[:1]))
    assert not mismatched.exists()
    today = timezone.localdate()
    first = timezone.localdate(Order.objects.order_by("ordered_at").first().ordered_at)
    last = timezone.localdate(Order.objects.order_by("-ordered_at").first().ordered_at)
    assert (today - first).days >= 700 and (today - last).days <= 14
    assert Order.objects.filter(currency="CNY").count() > 0.9 * Order.objects.count()
    assert AuditRecord.objects.filter(model="sales.order", action="create").count() == \
        Order.objects.count()


def test_spend_is_pareto_shaped_some_customers_lapse_and_seasons_show(loaded):
    revenue: dict[int, float] = defaultdict(float)
    for cid, total in Order.objects.exclude(status="cancelled").values_list(
            "customer_id").annotate(t=Sum("total_cny")):
        revenue[cid] += float(total)
    for cid, amount in OrderReturn.objects.values_list("order__customer_id").annotate(
            a=Sum("amount_cny")):
        revenue[cid] -= float(amount)
    share = demo.pareto_share(list(revenue.values()))
    assert 0.68 <= share <= 0.9, share
    cutoff = timezone.now() - dt.timedelta(days=180)
    last = dict(Order.objects.values_list("customer_id").annotate(
        m=Max("ordered_at")))
    lapsed = [cid for cid, at in last.items() if at < cutoff]
    assert 0.1 * len(last) <= len(lapsed) <= 0.5 * len(last)
    # Seasons: peaks before 618 and Double 11, a dip around the Spring Festival.
    per_day: dict[dt.date, int] = defaultdict(int)
    for at in Order.objects.values_list("ordered_at", flat=True):
        per_day[timezone.localdate(at)] += 1
    days = sorted(per_day)
    span = [days[0] + dt.timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)]

    def mean(pred):
        chosen = [per_day.get(d, 0) for d in span if pred(d)]
        return sum(chosen) / max(1, len(chosen))

    ordinary = mean(lambda d: demo.seasonality(d) == 1.0)
    assert mean(lambda d: d.month == 11 and d.day <= 11) > 1.5 * ordinary
    assert mean(lambda d: d.month == 6 and d.day <= 18) > 1.3 * ordinary
    assert mean(lambda d: demo.seasonality(d) == 0.3) < 0.6 * ordinary
