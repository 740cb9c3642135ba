"""The permission matrix for interactions and tasks: every page and API operation, for the
shipped roles, on the interactions and tasks of one's own customer, a teammate's and another
team's. Interactions follow their customer's grants; tasks follow the same grants through
their assignee (own) and the assignee's team (team).

Each row runs once per actor (and per object) in a rolled-back savepoint; the expected
answer comes from a plain-Python reading of ``core/roles.py`` (``guanxi.core.testing``),
never from the policy under test: lists hold exactly what is in scope, an out-of-scope
object answers 404, a visible one without the action 403, and roles without the
personal-data permission never see an email address unmasked. Routes whose rule the shared
vocabulary does not name (unfiled mail: ``change`` on every customer; the calendar feed: a
secret key) are checked by the tests below the matrix.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from guanxi.core import services as core_services
from guanxi.core import testing
from guanxi.core.access import Actor, policy
from guanxi.core.models import AuditRecord, User
from guanxi.core.testing import ANONYMOUS, Owned, Route, Who
from guanxi.customers.models import ContactPoint
from guanxi.customers.tests.factories import customer
from guanxi.interactions import mail, queries, services
from guanxi.interactions.models import Interaction, Task

pytestmark = pytest.mark.django_db

OWNERS = {"mine": "sales1", "teammate": "sales1b", "other": "sales2"}
NAMES = {"mine": "甲公司", "teammate": "乙公司", "other": "丙公司"}
EMAILS = {"mine": "jia@example.com", "teammate": "yi@example.com", "other": "bing@example.com"}
MASKED = {"mine": "j***@example.com", "teammate": "y***@example.com",
          "other": "b***@example.com"}
ACTORS = ("sales1", "sales1b", "sales2", "manager", "service", "analyst", "readonly", "admin",
          "inactive", ANONYMOUS)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOCAL = "%Y-%m-%dT%H:%M"


def _local(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime(LOCAL)


# Bodies ----------------------------------------------------------------------------------

def _log_form(world: World, actor: str, obj: Owned) -> dict:
    return {"customer": obj.pk, "channel": "phone", "initiator": "company", "direction": "out",
            "subject": "电话回访", "occurred_at": _local(timezone.now())}


def _edit_form(world: World, actor: str, obj: Owned) -> dict:
    return {"channel": "email", "initiator": "customer", "direction": "in",
            "subject": "Re: 报价", "occurred_at": _local(world.when), "outcome": "满意",
            "version": 1}


def _email_form(world: World, actor: str, obj: Owned) -> dict:
    return {"customer": obj.pk, "to": f"cp:{world.points[obj.name]}", "subject": "您好",
            "body": "附上资料"}


def _email_api(world: World, actor: str, obj: Owned) -> dict:
    return {"contact_point_id": world.points[obj.name], "subject": "您好", "body": "附上资料"}


def _new_task_form(world: World, actor: str, obj: Owned | None) -> dict:
    pk = world.users[actor].pk if actor in world.users else 0
    return {"title": "新任务", "assignee": pk, "due_at": _local(timezone.now())}


def _new_task_api(world: World, actor: str, obj: Owned | None) -> dict:
    return {"title": "新任务", "due_at": timezone.now().isoformat()}


def _task_form(world: World, actor: str, obj: Owned) -> dict:
    return {"title": "改期", "assignee": world.users[OWNERS[obj.name]].pk,
            "due_at": _local(world.when), "version": 1}


def page(name: str, method: str, url: str, check: str, **kw) -> Route:
    return Route(key=name, method=method, url=url, check=check, **kw)


def api(method: str, path: str, check: str, **kw) -> Route:
    return Route(key=f"{method} /api/v1{path}", method=method, url=f"/api/v1{path}",
                 check=check, **kw)


P = "/interactions"
PAGE_ROUTES = [
    page("interaction_list", "GET", P + "/", "list", target="list"),
    page("interaction_create", "GET", P + "/new/?customer={customer_id}", "change"),
    page("interaction_create", "POST", P + "/new/?customer={customer_id}", "change", ok=302,
         writes=True, body=_log_form),
    page("interaction_detail", "GET", P + "/{interaction_id}/", "view", pii=True),
    page("interaction_detail", "POST", P + "/{interaction_id}/", "change", ok=302,
         writes=True, body=_edit_form),
    page("customer_interactions", "GET", P + "/customer/{customer_id}/", "view"),
    page("email_compose", "GET", P + "/email/new/?customer={customer_id}", "change", pii=True),
    page("email_compose", "POST", P + "/email/new/?customer={customer_id}", "change", ok=302,
         writes=True, body=_email_form),
    page("task_list", "GET", P + "/tasks/", "list", target="list", query="?view=overdue"),
    page("task_create", "GET", P + "/tasks/new/", "change", target="none"),
    page("task_create", "POST", P + "/tasks/new/", "change", target="none", ok=302,
         writes=True, body=_new_task_form),
    page("task_edit", "GET", P + "/tasks/{task_id}/", "view"),
    page("task_edit", "POST", P + "/tasks/{task_id}/", "change", ok=302, writes=True,
         body=_task_form),
    page("task_complete", "POST", P + "/tasks/{task_id}/complete/", "change", ok=302,
         writes=True),
    page("task_reopen", "POST", P + "/tasks/{task_id}/reopen/", "change", ok=302),
    page("calendar", "GET", P + "/calendar/", "signed-in", target="none"),
    page("calendar_feed", "GET", P + "/calendar/feed/", "signed-in", target="none"),
    page("calendar_feed", "POST", P + "/calendar/feed/", "signed-in", target="none",
         writes=True, body={"action": "create"}),
    page("notifications", "GET", P + "/notifications/", "signed-in", target="none"),
    page("notifications_read_all", "POST", P + "/notifications/read-all/", "signed-in",
         target="none", ok=302),
    page("notification_open", "POST", P + "/notifications/{notification_id}/open/",
         "own-view", target="none", ok=302),
]

API_ROUTES = [
    api("GET", P + "/customers/{customer_id}", "view", pii=True),
    api("POST", P + "/customers/{customer_id}", "change", ok=201, writes=True,
        body={"channel": "phone", "subject": "来电"}),
    api("POST", P + "/customers/{customer_id}/emails", "change", ok=201, writes=True,
        body=_email_api),
    api("GET", P + "/{interaction_id}", "view", pii=True),
    api("PATCH", P + "/{interaction_id}", "change", writes=True,
        body={"version": 1, "outcome": "满意"}),
    api("GET", P + "/tasks", "list", target="list", query="?view=overdue"),
    api("POST", P + "/tasks", "change", target="none", ok=201, writes=True,
        body=_new_task_api),
    api("GET", P + "/tasks/{task_id}", "view"),
    api("PATCH", P + "/tasks/{task_id}", "change", writes=True,
        body={"version": 1, "title": "改期"}),
    api("POST", P + "/tasks/{task_id}/complete", "change", writes=True),
    api("POST", P + "/tasks/{task_id}/reopen", "change"),
    api("GET", P + "/notifications", "signed-in", target="none"),
    api("POST", P + "/notifications/read-all", "signed-in", target="none"),
    api("POST", P + "/notifications/{notification_id}/read", "own-view", target="none"),
]

ROUTES = testing.register("interactions", PAGE_ROUTES + API_ROUTES)
testing.covered_by_test("interactions", ["unfiled_mail", "unfiled_file", "unfiled_discard",
                                         "mail_fetch"],
                        "test_unfiled_mail_needs_change_on_every_customer")


# The world -------------------------------------------------------------------------------

@dataclass
class World:
    users: dict[str, User]
    who: dict[str, Who]
    objects: dict[str, Owned]
    interactions: dict[str, int]
    tasks: dict[str, int]
    points: dict[str, int]
    notification: int
    when: dt.datetime
    sessions: dict[str, Client]
    tokens: dict[str, str]

    def params(self, obj: Owned | None) -> dict[str, int]:
        out = {"notification_id": self.notification}
        if obj is not None:
            out.update(customer_id=obj.pk, interaction_id=self.interactions[obj.name],
                       task_id=self.tasks[obj.name])
        return out

    def name_of(self, table: dict[str, int], pk: int) -> str:
        return next((name for name, value in table.items() if value == pk), f"#{pk}")


def _build_world() -> World:
    users = testing.shipped_users()
    users["inactive"] = testing.user("inactive", "sales", "east")
    actors = {name: testing.actor(u) for name, u in users.items()}
    system = Actor.system("task")
    when = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=3)
    objects, interactions, tasks, points = {}, {}, {}, {}
    for name, owner in OWNERS.items():
        c = customer(actors[owner], NAMES[name], email=EMAILS[name], kind="organisation")
        objects[name] = Owned(name=name, owner_id=c.owner_id, team_id=c.team_id, pk=c.pk)
        points[name] = ContactPoint.objects.get(customer=c, kind="email").pk
        services.file_fetched(actor=system, fetched=mail.FetchedMail(
            uid=0, message_id=f"<msg-{name}@mail.example.net>", from_address=EMAILS[name],
            from_name="", to="crm@guanxi.test", subject="Re: 报价", body="收到", date=when))
        interactions[name] = Interaction.objects.get(customer=c).pk
        tasks[name] = services.task_create(actor=actors[owner], data={
            "title": f"回访{NAMES[name]}", "customer": c.pk,
            "due_at": timezone.now() - dt.timedelta(hours=1)}).pk
    services.notify([users["sales1"].pk], "提醒", "/interactions/tasks/")
    notification = users["sales1"].notifications.get(text="提醒").pk
    sessions, tokens = {ANONYMOUS: Client()}, {}
    for name, u in users.items():
        sessions[name] = Client()
        sessions[name].force_login(u)
        tokens[name] = core_services.token_create(actor=actors[name], user=u)
    User.objects.filter(pk=users["inactive"].pk).update(is_active=False)
    users["inactive"].refresh_from_db()
    who = {name: Who.of(name, users[name]) for name in ACTORS if name != ANONYMOUS}
    who[ANONYMOUS] = Who(name=ANONYMOUS)
    return World(users=users, who=who, objects=objects, interactions=interactions,
                 tasks=tasks, points=points, notification=notification, when=when,
                 sessions=sessions, tokens=tokens)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with transaction.atomic():
            yield _build_world()
            transaction.set_rollback(True)


# Running a row ---------------------------------------------------------------------------

LINKS = {"interaction_list": re.compile(r'href="/interactions/(\d+)/"'),
         "task_list": re.compile(r'href="/interactions/tasks/(\d+)/"')}


def _shown(route: Route, body: str, world: World) -> set[str]:
    table = world.tasks if "tasks" in route.url else world.interactions
    if route.api:
        return {world.name_of(table, i["id"]) for i in json.loads(body)["items"]}
    return {world.name_of(table, int(pk)) for pk in LINKS[route.key].findall(body)}


def _inspector(route: Route, world: World):
    def inspect(run: testing.MatrixRun, who: Who, obj: Owned | None, response) -> None:
        body = testing.text_of(response)
        label = obj.name if obj else None
        if route.target == "list":
            run.expect(who.name, label, "shown", testing.in_scope(who, world.objects.values()),
                       _shown(route, body, world))
        masked = not testing.role_sees_pii(who.role)
        if masked:
            run.expect(who.name, label, "unmasked personal data", [],
                       testing.RAW_PII.findall(body))
        if route.pii and obj is not None and route.method == "GET" and "email" not in route.url:
            shown = MASKED[obj.name] if masked else EMAILS[obj.name]
            run.expect(who.name, label, f"email of {obj.name}", True, shown in body)
    return inspect


def _expect(route: Route, who: Who, obj: Owned | None) -> int:
    if route.check == "own-view":  # the notification belongs to sales1
        return route.ok if who.name == "sales1" else 404
    return testing.expected_status(route, who, obj)


def _caller(world: World):
    anonymous = Client()

    def call(route: Route, actor: str, obj: Owned | None):
        url = route.url.format(**world.params(obj)) + route.query
        body = route.body(world, actor, obj) if callable(route.body) else route.body
        if route.api:
            key = world.tokens.get(actor)
            client = anonymous
            headers = {"Authorization": f"Bearer {key}"} if key else {}
        else:
            client, headers = world.sessions[actor], {}
        method = getattr(client, route.method.lower())
        if route.method == "GET":
            return method(url, headers=headers)
        if route.api:
            return method(url, json.dumps(body or {}), content_type="application/json",
                          headers=headers)
        return method(url, body or {}, headers=headers)
    return call


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.url}{r.query}" for r in ROUTES])
def test_matrix(route: Route, world: World):
    run = testing.run_matrix(route, world.who, world.objects, call=_caller(world),
                             expect=_expect, inspect=_inspector(route, world),
                             audit_count=AuditRecord.objects.count)
    run.check()


# Routes outside the shared vocabulary ------------------------------------------------------

def _change_all(who: Who) -> bool:
    return who.signed_in and testing.grant_scope(who.role, "change") == "all"


@pytest.mark.parametrize(("method", "url", "ok"), [
    ("GET", "/interactions/mail/unfiled/", 200),
    ("POST", "/interactions/mail/unfiled/{unfiled_id}/discard/", 302),
    ("POST", "/interactions/mail/unfiled/{unfiled_id}/file/", 302),
    ("POST", "/interactions/mail/fetch/", 302),
])
def test_unfiled_mail_needs_change_on_every_customer(world, method, url, ok):
    """Unfiled mail comes from no known customer: only those who may change every customer
    (service, administrators) read and file it; everyone else gets 403."""
    system = Actor.system("task")
    for name, who in world.who.items():
        with testing.rolled_back():
            services.file_fetched(actor=system, fetched=mail.FetchedMail(
                uid=0, message_id="<stranger@x>", from_address="stranger@nowhere.example",
                from_name="", to="", subject="广告", body="", date=timezone.now()))
            pk = queries.unfiled_list(actor=system).items[0].pk
            client = world.sessions[name]
            target = url.format(unfiled_id=pk)
            body = {"customer": world.objects["mine"].pk}
            r = client.get(target) if method == "GET" else client.post(target, body)
            expected = ok if _change_all(who) else (403 if who.signed_in else 302)
            assert r.status_code == expected, (name, url)


def test_the_calendar_feed_shows_its_owner_and_nobody_else(world):
    keys = {}
    for name in ("sales1", "sales2"):
        with testing.rolled_back():
            keys[name] = services.calendar_feed_create(actor=testing.actor(world.users[name]))
            anonymous = Client()
            mine = anonymous.get(f"/interactions/calendar/feed/{keys[name]}.ics")
            team = anonymous.get(f"/interactions/calendar/feed/{keys[name]}.ics?team=1")
            assert mine.status_code == team.status_code == 200
            if name == "sales1":
                assert "回访甲公司" in mine.content.decode()
                assert "回访乙公司" in team.content.decode()  # the teammate's task
            for other in ("丙公司",) if name == "sales1" else ("甲公司", "乙公司"):
                assert other not in mine.content.decode() + team.content.decode()


def test_another_team_sees_nothing_on_any_read_path(world):
    """sales2 (north) on every read of interactions and tasks: none of east's rows."""
    east = {world.interactions["mine"], world.interactions["teammate"]}
    east_tasks = {world.tasks["mine"], world.tasks["teammate"]}
    actor = testing.actor(world.users["sales2"])
    now = timezone.now()
    seen = {i.pk for i in queries.interaction_list(actor=actor, limit=200).items}
    assert not seen & east
    for view in queries.TASK_VIEWS:
        assert not {t.pk for t in queries.task_list(actor=actor, view=view).items} & east_tasks
    for who in ("mine", "team"):
        uids = {i.uid for i in queries.calendar_items(
            actor=actor, start=now - dt.timedelta(days=30), end=now + dt.timedelta(days=30),
            who=who)}
        assert not uids & {f"interaction-{pk}" for pk in east}
        assert not uids & {f"task-{pk}" for pk in east_tasks}
    assert not {t.pk for t in queries.overdue_tasks(actor=actor)} & east_tasks
    reps = {u.username for u, n in queries.activities_per_rep(
        actor=actor, start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1)) if n}
    assert not reps & {"sales1", "sales1b"}
    from guanxi.core import timeline

    other = world.objects["other"].pk
    entries = timeline.entries(actor=actor, customer_id=other, kinds={"interaction", "task"})
    assert {e.kind for e in entries} == {"interaction", "task"}
    client = world.sessions["sales2"]
    for pk in east:
        assert client.get(f"/interactions/{pk}/").status_code == 404
    for pk in east_tasks:
        assert client.get(f"/interactions/tasks/{pk}/").status_code == 404


# Property: the scope query agrees with a plain reading of the grants ----------------------

@given(st.lists(st.tuples(st.sampled_from(["sales1", "sales1b", "sales2", "manager"]),
                          st.booleans()), min_size=1, max_size=6))
@hypothesis_settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_task_scope_agrees_with_the_grants(world, assignments):
    """For random assignees (and team or no team on the row), every role's task list equals
    the rows a plain reading of the shipped grants allows."""
    with testing.rolled_back():
        made: dict[int, Owned] = {}
        for n, (assignee, keep_team) in enumerate(assignments):
            u = world.users[assignee]
            t = Task.objects.create(title=f"t{n}", assignee=u, created_by=u,
                                    team_id=u.team_id if keep_team else None,
                                    due_at=timezone.now())
            made[t.pk] = Owned(name=str(t.pk), owner_id=u.pk, team_id=t.team_id, pk=t.pk)
        for name in ("sales1", "sales2", "manager", "service", "readonly", "analyst"):
            who = world.who[name]
            actor = testing.actor(world.users[name])
            got = set(policy.scope(Task.objects.filter(pk__in=made), actor).values_list(
                "pk", flat=True))
            assert {str(pk) for pk in got} == testing.in_scope(who, made.values()), name
