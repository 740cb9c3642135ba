"""The analytics API: scores, segments, the dashboard's figures and the refresh, answering as
the pages do (same scope, same masking, same refresh rule)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.analytics import jobs
from guanxi.analytics.models import ScoreSnapshot
from guanxi.analytics.tests.test_pages import scored  # noqa: F401 (fixture)
from guanxi.analytics.tests.test_refresh import AS_OF, shop  # noqa: F401 (fixture)
from guanxi.core import services as core_services
from guanxi.core.models import JobRun

pytestmark = pytest.mark.django_db

A = "/api/v1/analytics"


@pytest.fixture
def api(users, actors):
    """``api(name)``: a client that sends that user's token."""
    def client(name: str) -> Client:
        key = core_services.token_create(actor=actors[name], user=users[name])
        return Client(headers={"Authorization": f"Bearer {key}"})
    return client


def _north(users) -> ScoreSnapshot:
    return ScoreSnapshot.objects.select_related("customer").get(
        customer__owner=users["sales2"], as_of=AS_OF)


def test_scores_of_an_own_customer_newest_first(api, users, scored):  # noqa: F811
    cid = scored[1]
    jobs.refresh(as_of=AS_OF.replace(day=29))  # an earlier snapshot
    r = api("sales1").get(f"{A}/customers/{cid}/scores")
    assert r.status_code == 200, r.content
    body = r.json()
    assert [s["as_of"] for s in body] == ["2026-06-30", "2026-06-29"]
    latest = ScoreSnapshot.objects.get(customer_id=cid, as_of=AS_OF)
    s = body[0]
    assert (s["r_score"], s["f_score"], s["m_score"]) == (
        latest.r_score, latest.f_score, latest.m_score)
    assert s["rfm_class"] == latest.rfm_class and s["frequency"] == latest.frequency
    assert s["rfm_class_label"]["zh"].endswith("客户") and s["rfm_class_label"]["en"]
    assert s["value_tier"] == latest.value_tier and s["lifecycle_stage"] == latest.lifecycle_stage
    for name in ("p_alive", "clv", "clv_intent", "churn_probability", "expected_loss", "vk",
                 "cost_to_serve", "profit", "clv_class", "matrix", "portfolio", "reasons",
                 "declining", "expected_purchases", "expected_spend", "abc_class",
                 "recency_days", "monetary"):
        assert name in s
    assert api("sales1").get(f"{A}/customers/{cid}/scores?limit=1").json()[0]["as_of"] == (
        "2026-06-30")


def test_scores_of_another_teams_customer_answer_404(api, users, scored):  # noqa: F811
    north = _north(users).customer_id
    assert api("sales1").get(f"{A}/customers/{north}/scores").status_code == 404
    assert api("sales1").get(f"{A}/customers/99999999/scores").status_code == 404
    assert api("sales2").get(f"{A}/customers/{north}/scores").status_code == 200
    assert api("sales2").get(f"{A}/customers/{scored[1]}/scores").status_code == 404


def test_segment_masks_phones_for_roles_without_personal_data(api, users, scored):  # noqa: F811
    north = _north(users)
    rows = {i["customer_id"]: i for i in
            api("analyst").get(f"{A}/segment?limit=200").json()["items"]}
    assert len(rows) == len(scored)
    assert rows[north.customer_id]["phone"] == "139****5678"
    assert rows[north.customer_id]["name"] == "北方客户"
    whole = {i["customer_id"]: i for i in
             api("admin").get(f"{A}/segment?limit=200").json()["items"]}
    assert whole[north.customer_id]["phone"] == north.customer.primary_phone
    assert whole[north.customer_id]["phone"].replace(" ", "") == "13912345678"
    assert whole[north.customer_id]["scores"]["rfm_class"] == north.rfm_class


def test_segment_is_scoped_filtered_and_paged(api, users, scored):  # noqa: F811
    body = api("sales2").get(f"{A}/segment").json()
    assert [i["name"] for i in body["items"]] == ["北方客户"]
    assert body["as_of"] == "2026-06-30" and body["count"] == "1"
    snap = ScoreSnapshot.objects.filter(customer__owner=users["sales1"], as_of=AS_OF).exclude(
        rfm_class="").first()
    same = ScoreSnapshot.objects.filter(as_of=AS_OF, rfm_class=snap.rfm_class,
                                        customer__owner=users["sales1"]).count()
    client = api("sales1")
    seen, cursor = [], ""
    while True:
        page = client.get(f"{A}/segment?rfm_class={snap.rfm_class}&limit=5{cursor}").json()
        seen += page["items"]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == same == len({i["customer_id"] for i in seen})
    assert {i["scores"]["rfm_class"] for i in seen} == {snap.rfm_class}
    assert "北方客户" not in {i["name"] for i in seen}
    old = client.get(f"{A}/segment?as_of=2020-01-01").json()
    assert old["items"] == [] and old["count"] == "0"


@pytest.mark.parametrize(("query", "field"), [
    ("rfm_class=vip", "rfm_class"), ("value_tier=gold", "value_tier"),
    ("abc_class=D", "abc_class"), ("lifecycle_stage=dead", "lifecycle_stage"),
    ("clv_class=x", "clv_class"), ("matrix=V", "matrix"), ("portfolio=bad", "portfolio"),
    ("as_of=2026-13-01", "as_of"), ("limit=0", "limit"), ("limit=201", "limit"),
    ("cursor=not-a-cursor", "cursor"),
])
def test_segment_refuses_bad_filters_naming_the_field(api, scored, query, field):  # noqa: F811
    r = api("analyst").get(f"{A}/segment?{query}")
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"]


def test_summary_counts_only_visible_customers(api, users, scored):  # noqa: F811
    everyone = api("analyst").get(f"{A}/summary").json()
    assert everyone["as_of"] == "2026-06-30" and everyone["dates"] == ["2026-06-30"]
    assert everyone["n"] == len(scored)
    assert sum(c["n"] for c in everyone["stages"]) == len(scored)
    assert all(c["label"]["zh"] for c in everyone["classes"])
    north = api("sales2").get(f"{A}/summary").json()
    assert north["n"] == 1 and sum(c["n"] for c in north["classes"]) <= 1
    assert {r["name"] for r in north["at_risk"]} <= {"北方客户"}
    assert api("sales2").get(f"{A}/summary?as_of=2020-01-01").status_code == 404


def test_summary_before_any_refresh(api, users):
    body = api("sales1").get(f"{A}/summary").json()
    assert body["as_of"] is None and body["n"] == 0 and body["classes"] == []


def test_refresh_is_for_the_roles_the_page_allows(api, users, shop,  # noqa: F811
                                                  django_capture_on_commit_callbacks):
    for name in ("sales1", "service", "marketing", "readonly"):
        r = api(name).post(f"{A}/refresh", {}, content_type="application/json")
        assert r.status_code == 403, name
    assert not JobRun.objects.filter(kind="analytics.refresh").exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = api("analyst").post(f"{A}/refresh", {"as_of": AS_OF.isoformat()},
                                content_type="application/json")
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["as_of"] == "2026-06-30" and body["url"] == f"{A}/jobs/{body['id']}"
    job = api("analyst").get(body["url"]).json()
    assert (job["status"], job["percent"]) == ("done", 100)
    assert ScoreSnapshot.objects.filter(as_of=AS_OF).count() == len(shop)
    for name in ("manager", "admin"):  # the body is optional
        r = api(name).post(f"{A}/refresh", "", content_type="application/json")
        assert r.status_code == 202, name
        assert r.json()["as_of"] == timezone.localdate().isoformat()


def test_refresh_refuses_a_date_ahead(api, users):
    ahead = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    r = api("analyst").post(f"{A}/refresh", {"as_of": ahead}, content_type="application/json")
    assert r.status_code == 422 and "as_of" in r.json()["errors"]
    assert not JobRun.objects.filter(kind="analytics.refresh").exists()


def test_a_refresh_job_is_for_its_starter_and_administrators(api, users):
    r = api("analyst").post(f"{A}/refresh", {}, content_type="application/json")
    url = r.json()["url"]
    queued = api("analyst").get(url).json()
    assert (queued["status"], queued["percent"], queued["done"]) == ("queued", 0, 0)
    assert api("admin").get(url).status_code == 200
    assert api("manager").get(url).status_code == 404
    assert api("sales1").get(url).status_code == 404
    assert api("analyst").get(f"{A}/jobs/99999999").status_code == 404
    assert Client().get(url).status_code == 401


def test_segment_by_profile_tag_and_group(api, scored):  # noqa: F811
    """The API's segment takes the page's tag and group filters; every row carries them."""
    from guanxi.analytics.models import ScoreSnapshot

    snap = ScoreSnapshot.objects.exclude(cluster=None).filter(
        customer__owner__username="sales1").first()
    client = api("sales1")
    rows = client.get(f"{A}/segment?cluster={snap.cluster}").json()["items"]
    assert rows and all(r["scores"]["cluster"] == snap.cluster for r in rows)
    tag = next(s.tags[0] for s in ScoreSnapshot.objects.all() if s.tags)
    rows = client.get(f"{A}/segment?tag={tag}").json()["items"]
    assert rows and all(tag in r["scores"]["tags"] for r in rows)
    r = client.get(f"{A}/segment?tag=bored")
    assert r.status_code == 422 and "tag" in r.content.decode()
