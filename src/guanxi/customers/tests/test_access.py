"""The permission matrix for customers: every page, fragment, export and API operation, for
every shipped role, on a customer of one's own, of a teammate and of another team.

Each row of :data:`ROUTES` runs once per actor (and per customer) in a rolled-back savepoint;
the expected answer comes from a plain-Python reading of ``core/roles.py`` (see
``guanxi.core.testing``), never from the policy under test: lists hold exactly the customers
in scope, an out-of-scope customer answers 404, a visible one without the action 403, and
roles without the personal-data permission never see a phone number, email, ID number or
street unmasked. The core pages and API operations (home, profile, administrators' pages,
``/me``, tags, custom fields) have their rows here too. The rows are registered for the
route-coverage test and docs/permissions.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from guanxi.core import services as core_services
from guanxi.core import testing
from guanxi.core.access import Actor
from guanxi.core.models import AuditRecord, User
from guanxi.core.testing import ANONYMOUS, Owned, Route, Who
from guanxi.customers import queries, services
from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db

# The world: three organisations with personal data, owned by sales1 (east), sales1b (east)
# and sales2 (north). "mine" is named with a leading "=" for the export's formula check.
OWNERS = {"mine": "sales1", "teammate": "sales1b", "other": "sales2"}
NAMES = {"mine": "=测试甲", "teammate": "测试乙", "other": "测试丙"}
PHONES = {"mine": "13812345678", "teammate": "13912345678", "other": "13712345678"}
MASKED_PHONES = {"mine": "138****5678", "teammate": "139****5678", "other": "137****5678"}
EMAILS = {"mine": "jia@example.com", "teammate": "yi@example.com", "other": "bing@example.com"}
ID_NUMBERS = {"mine": "110101199003071234", "teammate": "110101199104082345",
              "other": "110101199205093456"}
STREETS = {"mine": "甲街1号", "teammate": "乙街2号", "other": "丙街3号"}
CONTACT_PHONES = {"mine": "15012340001", "teammate": "15012340002", "other": "15012340003"}
ACTORS = ("sales1", "sales1b", "sales2", "manager", "service", "analyst", "readonly",
          "marketing", "admin", "inactive", ANONYMOUS)
SEARCH = "?" + urlencode({"q": "测试"})
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _edit_form(world: World, obj: Owned) -> dict:
    return {"kind": "organisation", "name": NAMES[obj.name], "relation_kind": "consumer",
            "source_type": "direct", "notes": "已回访", "version": world.versions[obj.name]}


def _reassign_form(world: World, obj: Owned) -> dict:
    return {"ids": [obj.pk], "owner": world.users["manager"].pk}


def _patch(world: World, obj: Owned) -> dict:
    return {"version": world.versions[obj.name], "notes": "已回访"}


def page(name: str, method: str, url: str, check: str, **kw) -> Route:
    return Route(key=name, method=method, url=url, check=check, **kw)


def api(method: str, path: str, check: str, **kw) -> Route:
    return Route(key=f"{method} /api/v1{path}", method=method, url=f"/api/v1{path}",
                 check=check, **kw)


C = "/customers/{customer_id}"
PAGE_ROUTES = [
    page("home", "GET", "/", "list", target="list"),
    page("customer_list", "GET", "/customers/", "list", target="list", pii=True),
    page("customer_search", "GET", "/customers/search/", "list", target="list", pii=True,
         query=SEARCH),
    page("customer_search", "GET", "/customers/search/", "list", target="list", pii=True,
         query=SEARCH + "&format=json"),
    page("customer_export", "GET", "/customers/export.csv", "export", target="list",
         pii=True),
    page("customer_create", "GET", "/customers/new/", "add", target="none"),
    page("customer_create", "POST", "/customers/new/", "add", target="none", ok=302,
         writes=True, body={"kind": "organisation", "name": "新客户",
                            "relation_kind": "consumer", "source_type": "direct"}),
    page("customer_detail", "GET", C + "/", "view", pii=True),
    page("customer_timeline", "GET", C + "/timeline/", "view", pii=True),
    page("customer_edit", "GET", C + "/edit/", "change"),
    page("customer_edit", "POST", C + "/edit/", "change", ok=302, writes=True,
         body=_edit_form),
    page("customer_delete", "POST", C + "/delete/", "delete", ok=302, writes=True),
    page("customer_tags", "POST", C + "/tags/", "change", ok=302, writes=True,
         body={"tags": "新标签"}),
    page("customer_add_point", "POST", C + "/points/", "change", ok=302, writes=True,
         body={"kind": "email", "value": "new@example.org"}),
    page("customer_remove_point", "POST", C + "/points/{point_id}/delete/", "change",
         ok=302, writes=True),
    page("customer_add_address", "POST", C + "/addresses/", "change", ok=302, writes=True,
         body={"kind": "work", "province": "北京市"}),
    page("customer_add_contact", "POST", C + "/contacts/", "change", ok=302, writes=True,
         body={"name": "新联系人"}),
    page("customer_add_consent", "POST", C + "/consents/", "change", ok=302, writes=True,
         body={"channel": "sms", "purpose": "marketing", "granted": "1"}),
    page("customer_reassign", "POST", "/customers/reassign/", "reassign", ok=302,
         writes=True, body=_reassign_form),
    page("customer_save_view", "POST", "/customers/views/save/", "signed-in", target="none",
         ok=302, body={"name": "东区", "query": "kind=organisation"}),
    page("customer_delete_view", "POST", "/customers/views/{view_id}/delete/", "own-view",
         target="none", ok=302),
    page("profile", "GET", "/profile/", "signed-in", target="none"),
    page("audit", "GET", "/audit/", "admin", target="none"),
    page("custom_fields", "GET", "/settings/custom-fields/", "admin", target="none"),
    page("users", "GET", "/settings/users/", "admin", target="none"),
    page("user_create", "GET", "/settings/users/new/", "admin", target="none"),
    page("user_edit", "GET", "/settings/users/{user_id}/", "admin", target="none"),
]

API_ROUTES = [
    api("GET", "/me", "signed-in", target="none"),
    api("GET", "/tags", "signed-in", target="none"),
    api("GET", "/custom-fields", "signed-in", target="none"),
    api("POST", "/custom-fields", "admin", target="none", ok=201, writes=True,
        body={"code": "grade", "label": "Grade", "type": "text"}),
    api("PATCH", "/custom-fields/{field_id}", "admin", target="none", writes=True,
        body={"version": 1, "label": "等级"}),
    api("DELETE", "/custom-fields/{field_id}", "admin", target="none", ok=204, writes=True),
    api("GET", "/customers", "list", target="list", pii=True),
    api("POST", "/customers", "add", target="none", ok=201, writes=True,
        body={"name": "新客户", "kind": "organisation"}),
    api("GET", "/customers/search", "list", target="list", pii=True, query=SEARCH),
    api("GET", C, "view", pii=True),
    api("PATCH", C, "change", writes=True, body=_patch),
    api("DELETE", C, "delete", ok=204, writes=True),
    api("PUT", C + "/tags", "change", writes=True, body={"tags": ["新标签"]}),
    api("GET", C + "/timeline", "view"),
    api("GET", C + "/contact-points", "view", pii=True),
    api("POST", C + "/contact-points", "change", ok=201, writes=True,
        body={"kind": "email", "value": "new@example.org"}),
    api("DELETE", C + "/contact-points/{point_id}", "change", ok=204, writes=True),
    api("GET", C + "/addresses", "view"),
    api("POST", C + "/addresses", "change", ok=201, writes=True, body={"province": "北京市"}),
    api("GET", C + "/contacts", "view"),
    api("POST", C + "/contacts", "change", ok=201, writes=True, body={"name": "新联系人"}),
    api("PATCH", "/customers/contacts/{contact_id}", "change", writes=True,
        body={"version": 1, "role": "经理"}),
    api("DELETE", "/customers/contacts/{contact_id}", "change", ok=204, writes=True),
    api("GET", C + "/consents", "view"),
    api("POST", C + "/consents", "change", ok=201, writes=True,
        body={"channel": "sms", "purpose": "marketing", "granted": True}),
]

ROUTES = testing.register("customers", PAGE_ROUTES + API_ROUTES)


# The world -------------------------------------------------------------------------------
#
# Built once per module inside a transaction that is rolled back at the end; every test (and
# every cell of the matrix) runs in a savepoint inside it, so nothing one cell writes is seen
# by the next.

@dataclass
class World:
    users: dict[str, User]
    who: dict[str, Who]
    objects: dict[str, Owned]
    versions: dict[str, int]
    points: dict[str, int]
    contacts: dict[str, int]
    saved_view: int
    custom_field: int
    sessions: dict[str, Client]
    tokens: dict[str, str]

    def params(self, obj: Owned | None) -> dict[str, int]:
        out = {"view_id": self.saved_view, "field_id": self.custom_field,
               "user_id": self.users["sales2"].pk}
        if obj is not None:
            out.update(customer_id=obj.pk, point_id=self.points[obj.name],
                       contact_id=self.contacts[obj.name])
        return out

    def name_of(self, pk: int) -> str:
        return next((o.name for o in self.objects.values() if o.pk == pk), f"#{pk}")

    def actor(self, name: str) -> Actor:
        return testing.actor(self.users[name])


def _build_world() -> World:
    users = testing.shipped_users()
    users["loner"] = testing.user("loner", "sales")  # a rep without a team
    users["inactive"] = testing.user("inactive", "sales", "east")  # signs in, then leaves
    actors = {name: testing.actor(u) for name, u in users.items()}
    objects, versions, points, contacts = {}, {}, {}, {}
    for name, owner in OWNERS.items():
        who = actors[owner]
        c = customer(who, NAMES[name], phone=PHONES[name], email=EMAILS[name],
                     kind="organisation", id_number=ID_NUMBERS[name])
        services.address_add(actor=who, customer_id=c.pk,
                             data={"province": "北京市", "street": STREETS[name]})
        contact = services.contact_create(actor=who, customer_id=c.pk,
                                          data={"name": "联系人", "phone": CONTACT_PHONES[name]})
        services.consent_record(actor=who, customer_id=c.pk, channel="email",
                                purpose="marketing", granted=True)
        services.customer_set_tags(actor=who, customer_id=c.pk, tags=["重点"])
        c = Customer.objects.get(pk=c.pk)
        objects[name] = Owned(name=name, owner_id=c.owner_id, team_id=c.team_id, pk=c.pk)
        versions[name] = c.version
        points[name] = ContactPoint.objects.get(customer=c, kind="email").pk
        contacts[name] = contact.pk
    view = core_services.saved_view_save(actor=actors["sales1"], list_name="customers",
                                         name="我的", query="kind=organisation")
    field = core_services.custom_field_create(
        actor=actors["admin"], data={"code": "level", "label": "Level", "type": "text"})
    # Each user signs in and takes an API token; then "inactive" is deactivated, keeping both.
    sessions, tokens = {ANONYMOUS: Client()}, {}
    for name, u in users.items():
        sessions[name] = Client()
        sessions[name].force_login(u)
        tokens[name] = core_services.token_create(actor=actors[name], user=u)
    User.objects.filter(pk=users["inactive"].pk).update(is_active=False)
    users["inactive"].refresh_from_db()
    who = {name: Who.of(name, users[name]) for name in ACTORS if name != ANONYMOUS}
    who[ANONYMOUS] = Who(name=ANONYMOUS)
    return World(users=users, who=who, objects=objects, versions=versions, points=points,
                 contacts=contacts, saved_view=view.pk, custom_field=field.pk,
                 sessions=sessions, tokens=tokens)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with transaction.atomic():
            yield _build_world()
            transaction.set_rollback(True)


# Reading an answer -----------------------------------------------------------------------

HREF = re.compile(r'href="/customers/(\d+)/"')


def _shown(route: Route, response, body: str, world: World) -> set[str]:
    """Names of the customers a list answer shows."""
    if route.key == "customer_export":
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        return {world.name_of(int(r[0])) for r in rows[1:] if r}
    if route.api:
        data = json.loads(body)
        items = data["items"] if isinstance(data, dict) else data
        return {world.name_of(i["id"]) for i in items}
    if "format=json" in route.query:
        return {world.name_of(i["id"]) for i in json.loads(body)["results"]}
    return {world.name_of(int(pk)) for pk in HREF.findall(body)}


def _raw_phone(name: str) -> re.Pattern:
    p = PHONES[name]
    return re.compile(rf"{p[:3]}[ -]?{p[3:7]}[ -]?{p[7:]}")


def _inspector(route: Route, world: World):
    def inspect(run: testing.MatrixRun, who: Who, obj: Owned | None, response) -> None:
        body = testing.text_of(response)
        label = obj.name if obj else None
        if route.target == "list":
            actions = ("view", "export") if route.check == "export" else ("view",)
            expected = testing.in_scope(who, world.objects.values(), *actions)
            run.expect(who.name, label, "customers shown", expected,
                       _shown(route, response, body, world))
            showing = sorted(expected)
        else:
            showing = [obj.name] if obj else []
        masked = not testing.role_sees_pii(who.role)
        if masked and route.target != "none":  # forms' help texts show sample numbers
            leaks = testing.RAW_PII.findall(body) + [s for s in STREETS.values() if s in body]
            run.expect(who.name, label, "unmasked personal data", [], leaks)
        if route.pii:
            for name in showing:
                seen = (MASKED_PHONES[name] in body) if masked else bool(
                    _raw_phone(name).search(body))
                run.expect(who.name, label, f"{'masked' if masked else 'real'} phone of {name}",
                           True, seen)
    return inspect


def _expect(route: Route, who: Who, obj: Owned | None) -> int:
    if route.check == "own-view":  # the saved view belongs to sales1
        return route.ok if who.name == "sales1" else 404
    return testing.expected_status(route, who, obj)


def _caller(world: World, auth: str):
    anonymous = Client()

    def call(route: Route, actor: str, obj: Owned | None):
        url = route.url.format(**world.params(obj)) + route.query
        body = route.body(world, obj) if callable(route.body) else route.body
        if auth == "token":  # a client without a session, the key as a header
            client = anonymous
            key = world.tokens.get(actor)
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


def _audit_count() -> int:
    return AuditRecord.objects.count()


# The API answers the same whichever way the caller signs in: a token runs every API row,
# the signed-in session runs the lists, reads and writes below as well.
SESSION_API_ROWS = {
    "GET /api/v1/customers", "GET /api/v1/customers/search",
    "GET /api/v1/customers/{customer_id}", "GET /api/v1/customers/{customer_id}/timeline",
    "GET /api/v1/customers/{customer_id}/contact-points",
    "GET /api/v1/customers/{customer_id}/consents",
    "PATCH /api/v1/customers/{customer_id}", "DELETE /api/v1/customers/{customer_id}",
}


def _params():
    for r in ROUTES:
        auths = ["session"] if not r.api else (
            ["token", "session"] if r.key in SESSION_API_ROWS else ["token"])
        for auth in auths:
            yield pytest.param(r, auth, id=f"{r.method} {r.url}{r.query} [{auth}]")


@pytest.mark.parametrize(("route", "auth"), list(_params()))
def test_matrix(route: Route, auth: str, world: World):
    run = testing.run_matrix(route, world.who, world.objects, call=_caller(world, auth),
                             expect=_expect, inspect=_inspector(route, world),
                             audit_count=_audit_count)
    run.check()


def _api_get(world: World, actor: str, url: str):
    return Client().get(url, headers={"Authorization": f"Bearer {world.tokens[actor]}"})


def _csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(testing.text_of(response).lstrip("\ufeff"))))


# Masking reads the same everywhere -------------------------------------------------------

def test_masked_phone_is_the_same_in_html_json_and_csv(world):
    mine = world.objects["mine"]
    analyst = world.sessions["analyst"]
    html = analyst.get("/customers/").content.decode()
    assert "138****5678" in html and "138 1234 5678" not in html
    results = analyst.get("/customers/search/" + SEARCH + "&format=json").json()["results"]
    assert {r["phone"] for r in results if r["id"] == mine.pk} == {"138****5678"}
    body = _api_get(world, "analyst", f"/api/v1/customers/{mine.pk}").json()
    assert body["primary_phone"] == "138****5678"
    assert body["primary_email"] == "j***@example.com"
    assert body["id_number"] == "110***********1234"
    assert {p["value"] for p in body["contact_points"]} == {"138****5678", "j***@example.com"}
    assert [a["street"] for a in body["addresses"]] == ["甲***"]
    contacts = _api_get(world, "analyst", f"/api/v1/customers/{mine.pk}/contacts").json()
    assert [c["phone"] for c in contacts] == ["150****0001"]
    row = next(r for r in _csv_rows(analyst.get("/customers/export.csv"))
               if r["id"] == str(mine.pk))
    assert (row["primary_phone"], row["primary_email"]) == ("138****5678", "j***@example.com")


def test_masked_detail_page_shows_no_personal_data(world):
    """The 360 view of a masked role: contact points, addresses, contacts and the timeline
    all masked (the timeline's object labels included)."""
    mine = world.objects["mine"]
    html = world.sessions["analyst"].get(f"/customers/{mine.pk}/").content.decode()
    assert "138****5678" in html and "150****0001" in html
    assert testing.RAW_PII.findall(html) == []
    assert STREETS["mine"] not in html


def _analyst_timeline_after_an_update(world: World) -> list[dict]:
    mine = world.objects["mine"]
    with testing.rolled_back():
        services.customer_update(actor=world.actor("sales1"), customer_id=mine.pk,
                                 version=world.versions["mine"],
                                 changes={"id_number": "110101198001011111"})
        return _api_get(world, "analyst", f"/api/v1/customers/{mine.pk}/timeline").json()


@pytest.mark.parametrize(("hidden", "other"), [("1381", "1380"), ("13812345", "13812340"),
                                               ("jia@", "jib@")])
def test_search_reveals_nothing_a_mask_hides(world, hidden, other):
    """A masked role sees 138****5678 and j***@example.com. Searching by prefix for what
    the mask hides (the fourth digit on, the second letter on) must not tell it whether it
    guessed right, or the whole value can be read back one character at a time."""
    client = world.sessions["analyst"]

    def found(term: str) -> list[int]:
        url = "/customers/search/?" + urlencode({"q": term, "format": "json"})
        return sorted(r["id"] for r in client.get(url).json()["results"])

    assert found(hidden) == found(other)


def test_timeline_changes_are_masked(world):
    entries = _analyst_timeline_after_an_update(world)
    update = next(e for e in entries if e["action"] == "update" and "id_number" in e["changes"])
    assert update["changes"]["id_number"] == ["110***********1234", "110***********1111"]
    changes = json.dumps([e["changes"] for e in entries], ensure_ascii=False)
    assert testing.RAW_PII.findall(changes) == []
    assert STREETS["mine"] not in changes


def test_timeline_object_labels_are_masked(world):
    """Each entry names its object (``object_repr``): a contact point's label is its value,
    an address's its street; a masked role must not read them there either."""
    entries = _analyst_timeline_after_an_update(world)
    labels = [e["object_repr"] for e in entries]
    assert [x for x in labels if testing.RAW_PII.search(x) or STREETS["mine"] in x] == []


def test_imported_customers_timeline_is_masked(world):
    with testing.rolled_back():
        [pk] = services.customer_bulk_create(actor=Actor.system(), records=[
            {"data": {"name": "导入客户", "owner": world.users["sales1"].pk},
             "phones": ["13687654321"], "emails": ["import@example.com"]}])
        entries = _api_get(world, "analyst", f"/api/v1/customers/{pk}/timeline").json()
    assert entries, "the import is on the timeline"
    assert testing.RAW_PII.findall(json.dumps(entries, ensure_ascii=False)) == []


@pytest.mark.parametrize("name", ["=1+1", "+86", "-SUM(A1)", "@cmd"])
def test_export_neutralises_formula_cells(name, world):
    with testing.rolled_back():
        customer(world.actor("sales1"), name)
        names = {r["name"] for r in _csv_rows(
            world.sessions["sales1"].get("/customers/export.csv"))}
    assert "'" + name in names and name not in names
    assert "'" + NAMES["mine"] in names


def test_create_for_an_owner_outside_the_add_scope_is_refused(world):
    with testing.rolled_back():
        r = Client().post("/api/v1/customers",
                          {"name": "越权", "owner": world.users["sales2"].pk},
                          content_type="application/json",
                          headers={"Authorization": f"Bearer {world.tokens['marketing']}"})
        assert r.status_code == 403
        assert not Customer.objects.filter(name="越权").exists()


def test_invisible_and_missing_look_alike(world):
    """Another team's contact and a contact that does not exist answer the same 404."""
    contact = world.contacts["other"]
    headers = {"Authorization": f"Bearer {world.tokens['sales1']}"}
    answers = []
    for contact_id in (contact, 999_999):
        with testing.rolled_back():
            r = Client().patch(f"/api/v1/customers/contacts/{contact_id}",
                               {"version": 1, "role": "x"}, content_type="application/json",
                               headers=headers)
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] == (404, {"detail": "Not found."})


def test_a_grant_change_reaches_the_next_request(world):
    """Grants are cached (core/reference.py); saving or deleting one drops the cache, and
    each request builds a new actor."""
    from guanxi.core.models import Grant

    client = world.sessions["readonly"]
    url = f"/customers/{world.objects['other'].pk}/"
    assert client.get(url).status_code == 404
    with testing.rolled_back():
        grant = Grant.objects.get(role__code="readonly", model="customers.customer",
                                  action="view")
        grant.scope = "all"
        grant.save()
        assert client.get(url).status_code == 200
        grant.delete()
        assert client.get(url).status_code == 404


# A property: the list query agrees with the grants for any owners and teams --------------

OWNER_CHOICES = ("sales1", "sales1b", "sales2", "manager", "loner", "analyst")
TEAM_CHOICES = ("owner's", "east", "north")
SCOPE_ACTORS = ("sales1", "sales1b", "sales2", "manager", "service", "analyst", "readonly",
                "marketing", "admin", "loner", "inactive")


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(OWNER_CHOICES), st.sampled_from(TEAM_CHOICES)),
                max_size=8))
def test_customer_list_agrees_with_the_grants(world, assignment):
    users = world.users
    teams = {u.team.code: u.team_id for u in users.values() if u.team_id}
    records = []
    for i, (owner, team) in enumerate(assignment):
        data = {"name": f"客户{i}", "owner": users[owner].pk}
        if team != "owner's":
            data["team"] = teams[team]
        records.append({"data": data})
    actors = {name: (world.actor(name), Who.of(name, users[name])) for name in SCOPE_ACTORS}
    with testing.rolled_back():
        services.customer_bulk_create(actor=Actor.system(), records=records)
        objs = [Owned(name=str(c.pk), owner_id=c.owner_id, team_id=c.team_id, pk=c.pk)
                for c in Customer.objects.all()]
        for name, (actor, who) in actors.items():
            listed = {str(c.pk) for c in queries.customer_list(actor=actor, limit=200).items}
            assert listed == testing.in_scope(who, objs, "view"), name
            exported = {str(row[0]) for row in queries.customer_export_rows(actor=actor)}
            assert exported == testing.in_scope(who, objs, "view", "export"), name

