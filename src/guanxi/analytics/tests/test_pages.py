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
    body = client.get(f"/customers/{snap.customer_id}/").content.decode()
    assert 'id="scores"' in body and f"R {snap.r_score}" in body
    assert f"Last purchase {snap.recency_days} days ago" in body


def test_cost_to_serve_feeds_profit_vk_and_matrix(client, users, scored):
    cid = scored[1]
    client.force_login(users["sales1"])
    r = client.post(f"/analytics/costs/{cid}/", {"year": AS_OF.year, "kind": "maintenance",
                                                 "amount": "12.50", "note": "上门拜访"})
    assert r.status_code == 302
    assert "上门拜访" in client.get(f"/customers/{cid}/").content.decode()
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
