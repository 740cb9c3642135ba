"""Analytics dashboard, drill-down, export and refresh, under the access policy."""

from __future__ import annotations

import csv
import io

import pytest

from guanxi.analytics import jobs
from guanxi.analytics.models import ScoreSnapshot
from guanxi.analytics.tests.test_refresh import AS_OF, shop  # noqa: F401 (fixture)
from guanxi.core.models import JobRun
from guanxi.customers import services as customer_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(shop, system_actor, users):  # noqa: F811
    other = customer_services.customer_bulk_create(
        actor=system_actor,
        records=[
            {"data": {"name": "北方客户", "owner": users["sales2"].pk}, "phones": ["13912345678"]}
        ],
    )
    jobs.refresh(as_of=AS_OF)
    return shop + other


def test_dashboard_and_drilldown_respect_scope(client, users, scored):
    client.force_login(users["sales1"])
    body = client.get("/analytics/").content.decode()
    assert 'id="rfm-classes"' in body
    assert 'title="lifecycle stage loyal" data-tag="loyal"' in body  # the tag's rule
    zh = client.get("/analytics/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'title="客户生命周期阶段为忠诚客户" data-tag="loyal"' in zh
    snap = (
        ScoreSnapshot.objects.exclude(rfm_class="").filter(customer__owner=users["sales1"]).first()
    )
    r = client.get(f"/analytics/segment/?rfm_class={snap.rfm_class}")
    names = {s.customer.name for s in r.context["page"].items}
    assert snap.customer.name in names
    assert "北方客户" not in client.get("/analytics/segment/").content.decode()
    client.force_login(users["sales2"])
    page = client.get("/analytics/segment/").context["page"]
    assert [s.customer.name for s in page.items] == ["北方客户"]


def test_export_is_scoped_and_masked(client, users, scored):
    client.force_login(users["analyst"])
    r = client.get("/analytics/segment.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == len(scored)
    north = next(row for row in rows if row["name"] == "北方客户")
    assert north["phone"] == "139****5678"
    client.force_login(users["sales1"])
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get("/analytics/segment.csv").streaming_content).decode("utf-8-sig")
            )
        )
    )
    assert "北方客户" not in {row["name"] for row in rows}


def test_refresh_from_the_page_runs_the_task(
    client,
    users,
    shop,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client.force_login(users["analyst"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/analytics/refresh/")
    assert r.status_code == 302
    job = JobRun.objects.get(kind="analytics.refresh")
    assert job.status == "done"
    assert client.get(f"/analytics/jobs/{job.pk}/").status_code == 200
    client.force_login(users["sales1"])
    assert client.post("/analytics/refresh/").status_code == 403


def test_customer_page_explains_the_scores(client, users, scored):
    snap = ScoreSnapshot.objects.filter(customer__owner=users["sales1"]).exclude(
        r_score=None).first()
    client.force_login(users["sales1"])
    page = client.get(f"/customers/{snap.customer_id}/").content.decode()
    # The value card loads after the page's first screen.
    assert f'hx-get="/analytics/customers/{snap.customer_id}/"' in page
    body = client.get(f"/analytics/customers/{snap.customer_id}/").content.decode()
    assert 'id="scores"' in body and f"R {snap.r_score}" in body
    assert f"Last purchase {snap.recency_days} days ago" in body


def test_cost_to_serve_feeds_profit_vk_and_matrix(client, users, scored):
    cid = scored[1]
    client.force_login(users["sales1"])
    r = client.post(f"/analytics/costs/{cid}/", {"year": AS_OF.year, "kind": "maintenance",
                                                 "amount": "12.50", "note": "上门拜访"})
    assert r.status_code == 302
    assert "上门拜访" in client.get(f"/analytics/customers/{cid}/").content.decode()
    client.force_login(users["sales2"])
    assert client.post(f"/analytics/costs/{cid}/", {"year": 2026, "kind": "maintenance",
                                                    "amount": "1"}).status_code == 404
    jobs.refresh(as_of=AS_OF)
    s = ScoreSnapshot.objects.get(customer_id=cid, as_of=AS_OF)
    assert s.cost_to_serve == 12.5 and s.profit == s.monetary - s.cost_to_serve
    assert s.matrix in {"I", "II", "III", "IV"} and s.clv_class and s.portfolio
    assert s.vk is not None


def test_nightly_command(shop, capsys):  # noqa: F811
    from django.core.management import call_command

    call_command("guanxi_refresh", as_of=AS_OF.isoformat())
    assert "Scores refreshed" in capsys.readouterr().out
    assert ScoreSnapshot.objects.filter(as_of=AS_OF).count() == 65


def test_customer_page_shows_intent_and_clv_with_intent(client, users, shop, actors):  # noqa: F811
    """A stated intent set through the edit page shows on the profile, and after the refresh
    the value card shows the CLV with intent beside the model CLV; the history names classes
    and stages in the user's language."""
    from guanxi.customers.models import Customer

    cid = shop[1]
    c = Customer.objects.get(pk=cid)
    client.force_login(users["sales1"])
    data = {"kind": c.kind, "name": c.name, "relation_kind": c.relation_kind,
            "source_type": c.source_type, "version": c.version,
            "purchase_intent": "leaving", "intent_change_pct": "-80",
            "intent_from": "2026-08-01"}
    r = client.post(f"/customers/{cid}/edit/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    c.refresh_from_db()
    assert (c.purchase_intent, c.intent_change_pct) == ("leaving", -80)
    r = client.post(f"/customers/{cid}/edit/", {**data, "version": c.version,
                                                 "intent_change_pct": "-150"})
    assert r.status_code == 200 and "intent_change_pct" in r.context["form"].errors
    jobs.refresh(as_of=AS_OF)
    snap = ScoreSnapshot.objects.get(customer_id=cid, as_of=AS_OF)
    assert snap.clv_intent < snap.clv
    jobs.refresh(as_of=AS_OF.replace(day=29))  # a second snapshot: the history table
    page = client.get(f"/customers/{cid}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "正在寻找其他供应商" in page and "-80%" in page
    body = client.get(f"/analytics/customers/{cid}/",
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="clv-intent"' in body and "含意向" in body
    assert "<td>important_" not in body and "<td>general_" not in body and "<td>repeat" not in body


def test_profiles_tags_groups_and_bought_together(client, users, shop, system_actor):  # noqa: F811
    """The refresh tags every customer, groups the buyers, and learns which SKUs are bought
    together; the customer page and the dashboard show them, and tags and groups drill down
    to the customers under the access policy."""
    import datetime as dt
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from guanxi.sales.models import Order, OrderLine, Product, TaxRate

    Product.objects.create(sku="DIAPER", name="纸尿裤", list_price=Decimal("99"),
                           tax_rate=TaxRate.objects.order_by("id").first())
    tz = ZoneInfo("Asia/Shanghai")
    day = dt.datetime.combine(AS_OF - dt.timedelta(days=20), dt.time(10), tzinfo=tz)
    lines = []
    for i, cid in enumerate(shop[:40]):
        order = Order.objects.create(number=f"BD{i}", customer_id=cid, owner=users["sales1"],
                                     total=Decimal("30"), total_cny=Decimal("30"),
                                     ordered_at=day)
        skus = ["BEER", "DIAPER"] if i % 4 else ["BEER"]
        if i % 5 == 0:
            skus = ["MILK"]
        lines += [OrderLine(order=order, sku=s, quantity=1, unit_price=Decimal("15"),
                            amount=Decimal("15"), line_no=k + 1) for k, s in enumerate(skus)]
    OrderLine.objects.bulk_create(lines)
    run = jobs.refresh(as_of=AS_OF)
    rules = run.fits["rules"]["rules"]
    beer = next(r for r in rules if (r["antecedent_name"], r["consequent_name"])
                == ("BEER", "DIAPER"))
    # 32 orders have beer, 24 of them diapers too; 40 orders in all.
    assert beer["count"] == 24 and abs(beer["confidence"] - 24 / 32) < 1e-9
    assert run.fits["clusters"]["k"] >= 3
    snaps = {s.customer_id: s for s in ScoreSnapshot.objects.filter(as_of=AS_OF)}
    assert all(snaps[c].cluster is not None for c in shop[:60])
    assert "never_bought" in snaps[shop[61]].tags and snaps[shop[61]].cluster is None
    # A beer buyer without diapers is offered diapers, by name.
    client.force_login(users["sales1"])
    beer_only = shop[4]  # i = 4: beer alone
    body = client.get(f"/analytics/customers/{beer_only}/").content.decode()
    assert 'id="also-bought"' in body and "纸尿裤" in body
    assert 'id="customer-group"' in body
    dash = client.get("/analytics/").content.decode()
    assert 'id="clusters"' in dash and 'id="rules"' in dash and "DIAPER" in dash
    tagged = next(snaps[c] for c in shop[:60] if snaps[c].tags)
    tag = tagged.tags[0]
    names = {s.customer.name for s in client.get(f"/analytics/segment/?tag={tag}")
             .context["page"].items}
    assert tagged.customer.name in names
    assert all(tag in s.tags for s in client.get(f"/analytics/segment/?tag={tag}")
               .context["page"].items)
    group = snaps[shop[0]].cluster
    page = client.get(f"/analytics/segment/?cluster={group}").context["page"]
    assert page.items and all(s.cluster == group for s in page.items)
    # sales2 sees none of sales1's customers in any group.
    client.force_login(users["sales2"])
    assert not client.get(f"/analytics/segment/?cluster={group}").context["page"].items
