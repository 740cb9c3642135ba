"""The permission matrix for analytics: the dashboard, the segment drill-down and its CSV, the
refresh, a refresh job's progress and the cost-to-serve form, for every shipped role, on the
scores of a customer of one's own, of a teammate and of another team.

A customer's snapshot is in scope exactly when the customer is in the actor's ``view`` scope,
so the drill-down lists exactly those customers and the CSV those in the ``view`` and
``export`` scopes; the refresh is a role check (admin, manager, analyst); a job's progress is
for the user who started it and administrators (404 for anyone else); a cost to serve needs
``change`` on the customer. The API answers the same: a customer's scores need ``view`` on
the customer (404 outside the scope), the segment and the summary hold exactly the customers
in scope, masked as on the page. Expected answers come from ``guanxi.core.testing``'s reading
of ``core/roles.py``, never from the policy under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from guanxi.analytics.models import CostEntry, ModelRun, ScoreSnapshot
from guanxi.core import services as core_services
from guanxi.core import testing
from guanxi.core.models import AuditRecord, JobRun, User
from guanxi.core.testing import ANONYMOUS, Owned, Route, Who
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db

OWNERS = {"mine": "sales1", "teammate": "sales1b", "other": "sales2"}
NAMES = {"mine": "分析甲", "teammate": "分析乙", "other": "分析丙"}
PHONES = {"mine": "13812340001", "teammate": "13812340002", "other": "13812340003"}
MASKED_PHONES = {"mine": "138****0001", "teammate": "138****0002", "other": "138****0003"}
ACTORS = ("sales1", "sales1b", "sales2", "manager", "service", "analyst", "readonly",
          "marketing", "admin", "inactive", ANONYMOUS)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page(name: str, method: str, url: str, check: str, **kw) -> Route:
    return Route(key=name, method=method, url=url, check=check, **kw)


def api(method: str, path: str, check: str, **kw) -> Route:
    return Route(key=f"{method} /api/v1{path}", method=method, url=f"/api/v1{path}",
                 check=check, **kw)


A = "/analytics"
PAGE_ROUTES = [
    page("analytics_dashboard", "GET", A + "/", "signed-in", target="none"),
    page("analytics_segment", "GET", A + "/segment/", "list", target="list", pii=True),
    page("analytics_segment_export", "GET", A + "/segment.csv", "export", target="list",
         pii=True),
    page("analytics_refresh", "POST", A + "/refresh/", "refresh", target="none", ok=302,
         writes=True),
    page("analytics_job", "GET", A + "/jobs/{job_id}/", "starter", target="none"),
    page("analytics_customer_panel", "GET", A + "/customers/{customer_id}/", "view"),
    page("analytics_add_cost", "POST", A + "/costs/{customer_id}/", "change", ok=302,
         writes=True, body={"year": "2026", "kind": "maintenance", "amount": "120.50"}),
]

API_ROUTES = [
    api("GET", A + "/customers/{customer_id}/scores", "view"),
    api("GET", A + "/segment", "list", target="list", pii=True),
    api("GET", A + "/summary", "list", target="list"),
    api("POST", A + "/refresh", "refresh", target="none", ok=202, writes=True),
    api("GET", A + "/jobs/{job_id}", "starter", target="none"),
]

ROUTES = testing.register("analytics", PAGE_ROUTES + API_ROUTES)


@dataclass
class World:
    users: dict[str, User]
    who: dict[str, Who]
    objects: dict[str, Owned]
    job: int
    sessions: dict[str, Client]
    tokens: dict[str, str]

    def params(self, obj: Owned | None) -> dict[str, int]:
        out = {"job_id": self.job}
        if obj is not None:
            out["customer_id"] = obj.pk
        return out

    def name_of(self, pk: int) -> str:
        return next((o.name for o in self.objects.values() if o.pk == pk), f"#{pk}")


def _build_world() -> World:
    users = testing.shipped_users()
    users["inactive"] = testing.user("inactive", "analyst", "east")
    actors = {name: testing.actor(u) for name, u in users.items()}
    as_of = timezone.localdate()
    run = ModelRun.objects.create(as_of=as_of, status="done", engine_version="test",
                                  n_customers=3, finished_at=timezone.now())
    objects = {}
    for n, (name, owner) in enumerate(OWNERS.items()):
        c = customer(actors[owner], NAMES[name], phone=PHONES[name], kind="organisation")
        ScoreSnapshot.objects.create(
            run=run, customer=c, as_of=as_of, recency_days=10 * (n + 1), frequency=n + 1,
            monetary=Decimal("100") * (n + 1), r_score=3, f_score=3, m_score=3,
            rfm_class="important_value", abc_class="A", value_tier="vip",
            lifecycle_stage="repeat", p_alive=0.9, clv=Decimal("500"),
            churn_probability=0.1, expected_loss=Decimal("10"))
        objects[name] = Owned(name=name, owner_id=c.owner_id, team_id=c.team_id, pk=c.pk)
    # A refresh the analyst started (queued, never run: the page only reads its progress).
    job = JobRun.objects.create(kind="analytics.refresh", actor=users["analyst"],
                                params={"as_of": (as_of - dt.timedelta(days=1)).isoformat()},
                                total=5)
    sessions, tokens = {ANONYMOUS: Client()}, {}
    for name, u in users.items():
        sessions[name] = Client()
        sessions[name].force_login(u)
        tokens[name] = core_services.token_create(actor=actors[name], user=u)
    User.objects.filter(pk=users["inactive"].pk).update(is_active=False)
    users["inactive"].refresh_from_db()
    who = {name: Who.of(name, users[name]) for name in ACTORS if name != ANONYMOUS}
    who[ANONYMOUS] = Who(name=ANONYMOUS)
    return World(users=users, who=who, objects=objects, job=job.pk, sessions=sessions,
                 tokens=tokens)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with transaction.atomic():
            yield _build_world()
            transaction.set_rollback(True)


def _shown(route: Route, response, world: World) -> set[str]:
    if route.api:
        body = json.loads(testing.text_of(response))
        rows = body["items"] if "items" in body else body["at_risk"]
        return {world.name_of(r["customer_id"]) for r in rows}
    if route.key == "analytics_segment_export":
        body = testing.text_of(response).lstrip("\ufeff")
        return {world.name_of(int(r["customer_id"])) for r in csv.DictReader(io.StringIO(body))}
    return {world.name_of(s.customer_id) for s in response.context["page"].items}


def _inspector(route: Route, world: World):
    def inspect(run: testing.MatrixRun, who: Who, obj: Owned | None, response) -> None:
        label = obj.name if obj else None
        if route.target == "list":
            actions = ("view", "export") if route.check == "export" else ("view",)
            run.expect(who.name, label, "customers shown",
                       testing.in_scope(who, world.objects.values(), *actions),
                       _shown(route, response, world))
        masked = not testing.role_sees_pii(who.role)
        body = testing.text_of(response)
        if masked:
            run.expect(who.name, label, "unmasked personal data", [],
                       testing.RAW_PII.findall(body))
        if route.api and route.pii:
            for name in sorted(testing.in_scope(who, world.objects.values())):
                phone = MASKED_PHONES[name] if masked else PHONES[name]
                run.expect(who.name, label, f"{'masked' if masked else 'real'} phone of {name}",
                           True, phone in body.replace(" ", ""))
        if route.key.endswith("/scores"):
            run.expect(who.name, label, "snapshots", 1, len(json.loads(body)))
    return inspect


def _expect(route: Route, who: Who, obj: Owned | None) -> int:
    if route.check == "starter":  # the job was started by the analyst
        return route.ok if who.name == "analyst" or testing.role_is_admin(who.role) else 404
    return testing.expected_status(route, who, obj)


def _caller(world: World):
    anonymous = Client()

    def call(route: Route, actor: str, obj: Owned | None):
        url = route.url.format(**world.params(obj)) + route.query
        if route.api:  # a client without a session, the token as a header
            key = world.tokens.get(actor)
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            if route.method == "GET":
                return anonymous.get(url, headers=headers)
            return anonymous.post(url, json.dumps(route.body or {}),
                                  content_type="application/json", headers=headers)
        client = world.sessions[actor]
        if route.method == "GET":
            return client.get(url)
        return client.post(url, route.body or {})
    return call


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.url}" for r in ROUTES])
def test_matrix(route: Route, world: World):
    run = testing.run_matrix(route, world.who, world.objects, call=_caller(world),
                             expect=_expect, inspect=_inspector(route, world),
                             audit_count=AuditRecord.objects.count)
    run.check()


def test_another_team_sees_none_of_easts_scores(world):
    """sales2 (north) drills down and exports: only its own customer, never east's."""
    client = world.sessions["sales2"]
    page_ = client.get("/analytics/segment/")
    assert {s.customer_id for s in page_.context["page"].items} == {world.objects["other"].pk}
    html = page_.content.decode()
    assert NAMES["mine"] not in html and NAMES["teammate"] not in html
    for pk in (world.objects["mine"].pk, world.objects["teammate"].pk):
        with testing.rolled_back():
            r = client.post(f"/analytics/costs/{pk}/",
                            {"year": "2026", "kind": "maintenance", "amount": "1"})
            assert r.status_code == 404
            assert not CostEntry.objects.filter(customer_id=pk).exists()


def test_a_refresh_job_is_for_its_starter_only(world):
    """Another analyst's job answers like a missing one."""
    with testing.rolled_back():
        other = testing.user("analyst2", "analyst")
        client = Client()
        client.force_login(other)
        assert client.get(f"/analytics/jobs/{world.job}/").status_code == 404
        assert client.get("/analytics/jobs/999999/").status_code == 404
