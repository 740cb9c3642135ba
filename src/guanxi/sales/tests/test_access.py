"""The permission matrix for sales: leads, opportunities (list, board, move), the sales
dashboard, products, price lists, exchange rates, quotes (workflow, PDF, editor partial) and
orders (imports included), for every shipped role, on the records of a customer of one's own,
of a teammate and of another team.

Each row runs once per actor (and per object of the row's ``model``) in a rolled-back
savepoint; the expected answer comes from ``guanxi.core.testing``'s reading of
``core/roles.py`` (``sales.lead``, ``sales.opportunity``, ``sales.quote`` with ``approve``,
``sales.order``), never from the policy under test. Products, price lists and exchange rates
are reference data: any signed-in user reads them, administrators write them. An order
import job is for the user who started it and administrators.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client, override_settings

from guanxi.core import services as core_services
from guanxi.core import testing
from guanxi.core.models import AuditRecord, User
from guanxi.core.roles import LEAD, OPPORTUNITY, ORDER, QUOTE
from guanxi.core.testing import ANONYMOUS, Owned, Route, Who
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Lead, Opportunity, Order, Quote, Stage, TaxRate
from guanxi.sales.services import leads as lead_services
from guanxi.sales.services import opportunities as opp_services
from guanxi.sales.services import orders as order_services
from guanxi.sales.services import products as product_services
from guanxi.sales.services import quotes as quote_services

pytestmark = pytest.mark.django_db

OWNERS = {"mine": "sales1", "teammate": "sales1b", "other": "sales2"}
ACTORS = ("sales1", "sales1b", "sales2", "manager", "service", "analyst", "readonly",
          "marketing", "admin", "inactive", ANONYMOUS)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LINE = {"sku": "TEA-1", "description": "龙井茶", "quantity": "1", "unit_price": "50"}
QUOTE_STATES = ("draft", "pending", "approved", "sent", "accepted")
CSV = (b"source,external_id,customer_id,quantity,unit_price,ordered_at\n"
       b"erp,IMP-1,{cid},1,10,2025-01-01 10:00\n")


def page(name: str, method: str, url: str, check: str, **kw) -> Route:
    return Route(key=name, method=method, url=url, check=check, **kw)


def api(method: str, path: str, check: str, **kw) -> Route:
    """The key names the operation (``{quote_id}``); the URL may pick a quote in a given
    state (``{quote_pending}``)."""
    key = re.sub(r"\{quote_[a-z]+\}", "{quote_id}", path)
    return Route(key=f"{method} /api/v1{key}", method=method, url=f"/api/v1{path}",
                 check=check, **kw)


def _v(state: str = ""):
    """A body with the object's current version (``state`` names a quote's state)."""
    def body(world: World, obj: Owned | None) -> dict:
        return {"version": world.version(obj, state)}
    return body


def _with(extra: dict, state: str = ""):
    def body(world: World, obj: Owned | None) -> dict:
        return {"version": world.version(obj, state), **extra}
    return body


def _move(world: World, obj: Owned | None) -> dict:
    return {"stage": world.stage, "version": world.version(obj)}


def _opp_new(world: World, obj: Owned | None) -> dict:
    return {"name": "新商机", "customer": world.own_customer(), "amount": "100"}


def _quote_new(world: World, obj: Owned | None) -> dict:
    return {"customer": world.own_customer(), "lines": [
        {"product": world.product, "quantity": "1"}]}


def _order_new(world: World, obj: Owned | None) -> dict:
    return {"customer_id": world.own_customer(), "lines": [LINE]}


def _import(world: World, obj: Owned | None) -> dict:
    return {"orders": [{**_order_new(world, obj), "source": "erp", "external_id": "API-1",
                        "ordered_at": "2025-01-01T10:00:00+08:00"}]}


def _opp_form(world: World, obj: Owned | None) -> dict:
    return {"name": "改名", "customer": world.customers[obj.name] if obj else
            world.own_customer(), "amount": "100", "currency": "CNY",
            "probability": "0.2", "version": world.version(obj) if obj else ""}


L, OP, Q, R = "/sales/leads", "/sales/opportunities", "/sales/quotes", "/sales/orders"
PAGE_ROUTES = [
    page("sales_dashboard", "GET", "/sales/", "signed-in", target="none"),
    page("lead_list", "GET", L + "/", "list", target="list", model=LEAD),
    page("lead_create", "GET", L + "/new/", "add", target="none", model=LEAD),
    page("lead_create", "POST", L + "/new/", "add", target="none", ok=302, writes=True,
         model=LEAD, body={"name": "新线索", "company": "新公司", "email": "new@example.org"}),
    page("lead_detail", "GET", L + "/{lead_id}/", "view", model=LEAD),
    page("lead_action", "POST", L + "/{lead_id}/qualify/", "change", ok=302, writes=True,
         model=LEAD, body=_v()),
    page("lead_action", "POST", L + "/{lead_id}/lose/", "change", ok=302, writes=True,
         model=LEAD, body=_with({"reason": "预算不足"})),
    page("opportunity_list", "GET", OP + "/", "list", target="list", model=OPPORTUNITY),
    page("opportunity_board", "GET", OP + "/board/", "list", target="list",
         model=OPPORTUNITY),
    page("opportunity_create", "GET", OP + "/new/", "add", target="none", model=OPPORTUNITY),
    page("opportunity_create", "POST", OP + "/new/", "add", target="none", ok=302,
         writes=True, model=OPPORTUNITY, body=_opp_form),
    page("opportunity_detail", "GET", OP + "/{opportunity_id}/", "view", model=OPPORTUNITY),
    page("opportunity_edit", "GET", OP + "/{opportunity_id}/edit/", "change",
         model=OPPORTUNITY),
    page("opportunity_edit", "POST", OP + "/{opportunity_id}/edit/", "change", ok=302,
         writes=True, model=OPPORTUNITY, body=_opp_form),
    page("opportunity_move", "POST", OP + "/{opportunity_id}/move/", "change",
         writes=True, model=OPPORTUNITY, body=_move),
    page("product_list", "GET", "/sales/products/", "signed-in", target="none"),
    page("product_create", "GET", "/sales/products/new/", "admin", target="none"),
    page("product_edit", "GET", "/sales/products/{product_id}/edit/", "admin",
         target="none"),
    page("pricelist_list", "GET", "/sales/price-lists/", "signed-in", target="none"),
    page("pricelist_list", "POST", "/sales/price-lists/", "admin", target="none", ok=302,
         writes=True, body={"name": "新价目表", "currency": "CNY"}),
    page("pricelist_detail", "GET", "/sales/price-lists/{price_list_id}/", "signed-in",
         target="none"),
    page("pricelist_item_remove", "POST",
         "/sales/price-lists/{price_list_id}/items/{item_id}/remove/", "admin",
         target="none", ok=302, writes=True),
    page("fx_rates", "GET", "/sales/exchange-rates/", "signed-in", target="none"),
    page("quote_list", "GET", Q + "/", "list", target="list", model=QUOTE),
    page("quote_create", "GET", Q + "/new/", "add", target="none", model=QUOTE),
    page("quote_lines", "POST", Q + "/lines/", "signed-in", target="none",
         body={"op": "add"}),
    page("quote_detail", "GET", Q + "/{quote_draft}/", "view", model=QUOTE),
    page("quote_edit", "GET", Q + "/{quote_draft}/edit/", "change", model=QUOTE),
    page("quote_pdf", "GET", Q + "/{quote_draft}/pdf/", "view", model=QUOTE),
    page("quote_action", "POST", Q + "/{quote_draft}/do/submit/", "change", ok=302,
         writes=True, model=QUOTE, body=_v("draft")),
    page("quote_action", "POST", Q + "/{quote_pending}/do/approve/", "approve", ok=302,
         writes=True, model=QUOTE, body=_v("pending")),
    page("quote_action", "POST", Q + "/{quote_pending}/do/reject/", "approve", ok=302,
         writes=True, model=QUOTE, body=_with({"reason": "折扣太大"}, "pending")),
    page("quote_action", "POST", Q + "/{quote_approved}/do/send/", "change", ok=302,
         writes=True, model=QUOTE, body=_v("approved")),
    page("quote_action", "POST", Q + "/{quote_sent}/do/accept/", "change", ok=302,
         writes=True, model=QUOTE, body=_v("sent")),
    page("quote_action", "POST", Q + "/{quote_accepted}/do/order/", "change", ok=302,
         writes=True, model=QUOTE, body=_v("accepted")),
    page("order_list", "GET", R + "/", "list", target="list", model=ORDER),
    page("order_detail", "GET", R + "/{order_id}/", "view", model=ORDER),
    page("order_update", "POST", R + "/{order_id}/update/", "change", ok=302, writes=True,
         model=ORDER, body=_with({"payment_status": "paid", "status": ""})),
    page("order_cancel", "POST", R + "/{order_id}/cancel/", "change", ok=302, writes=True,
         model=ORDER, body=_with({"reason": "客户取消"})),
    page("order_return", "POST", R + "/{order_id}/returns/", "change", ok=302, writes=True,
         model=ORDER, body={"kind": "refund", "amount": "1", "reason": "破损"}),
    page("order_import", "GET", R + "/import/", "add", target="none", model=ORDER),
    page("order_import_job", "GET", R + "/import/{job_id}/", "starter", target="none"),
    page("order_import_progress", "GET", R + "/import/{job_id}/progress/", "starter",
         target="none"),
    page("order_import_resume", "POST", R + "/import/{job_id}/resume/", "starter",
         target="none", ok=302),
]

API_ROUTES = [
    api("GET", "/leads", "list", target="list", model=LEAD),
    api("POST", "/leads", "add", target="none", ok=201, writes=True, model=LEAD,
        body={"name": "新线索", "company": "新公司", "email": "new@example.org"}),
    api("GET", "/leads/{lead_id}", "view", model=LEAD),
    api("POST", "/leads/{lead_id}/qualify", "change", writes=True, model=LEAD, body=_v()),
    api("POST", "/leads/{lead_id}/lose", "change", writes=True, model=LEAD,
        body=_with({"reason": "预算不足"})),
    api("POST", "/leads/{lead_id}/convert", "change", writes=True, model=LEAD,
        body=_with({"opportunity": False})),
    api("GET", "/opportunities", "list", target="list", model=OPPORTUNITY),
    api("POST", "/opportunities", "add", target="none", ok=201, writes=True,
        model=OPPORTUNITY, body=_opp_new),
    api("GET", "/opportunities/{opportunity_id}", "view", model=OPPORTUNITY),
    api("PATCH", "/opportunities/{opportunity_id}", "change", writes=True,
        model=OPPORTUNITY, body=_with({"name": "改名"})),
    api("POST", "/opportunities/{opportunity_id}/move", "change", writes=True,
        model=OPPORTUNITY, body=_move),
    api("GET", "/products", "signed-in", target="none"),
    api("GET", "/products/categories", "signed-in", target="none"),
    api("GET", "/products/tax-rates", "signed-in", target="none"),
    api("GET", "/products/price-lists", "signed-in", target="none"),
    api("GET", "/products/price-lists/{price_list_id}", "signed-in", target="none"),
    api("POST", "/products/price-lists", "admin", target="none", ok=201, writes=True,
        body={"name": "新价目表", "relation_kind": "intermediary"}),
    api("PATCH", "/products/price-lists/{price_list_id}", "admin", target="none",
        writes=True, body={"version": 1, "name": "会员价（新）"}),
    api("PUT", "/products/price-lists/{price_list_id}/items/{product_id}", "admin",
        target="none", writes=True, body={"price": "88.80"}),
    api("DELETE", "/products/price-lists/{price_list_id}/items/{product_id}", "admin",
        target="none", ok=204, writes=True),
    api("GET", "/products/{product_id}", "signed-in", target="none"),
    api("POST", "/products", "admin", target="none", ok=201, writes=True,
        body={"sku": "NEW-1", "name": "新品", "list_price": "10", "tax_rate": 0}),
    api("PATCH", "/products/{product_id}", "admin", target="none", writes=True,
        body={"version": 1, "name": "改名"}),
    api("GET", "/quotes", "list", target="list", model=QUOTE),
    api("POST", "/quotes", "add", target="none", ok=201, writes=True, model=QUOTE,
        body=_quote_new),
    api("GET", "/quotes/{quote_draft}", "view", model=QUOTE),
    api("PATCH", "/quotes/{quote_draft}", "change", writes=True, model=QUOTE,
        body=_with({"notes": "备注"}, "draft")),
    api("POST", "/quotes/{quote_draft}/submit", "change", writes=True, model=QUOTE,
        body=_v("draft")),
    api("POST", "/quotes/{quote_pending}/approve", "approve", writes=True, model=QUOTE,
        body=_v("pending")),
    api("POST", "/quotes/{quote_pending}/reject", "approve", writes=True, model=QUOTE,
        body=_with({"reason": "折扣太大"}, "pending")),
    api("POST", "/quotes/{quote_approved}/send", "change", writes=True, model=QUOTE,
        body=_v("approved")),
    api("POST", "/quotes/{quote_sent}/accept", "change", writes=True, model=QUOTE,
        body=_v("sent")),
    api("POST", "/quotes/{quote_accepted}/to-order", "change", ok=201, writes=True,
        model=QUOTE, body=_v("accepted")),
    api("GET", "/orders", "list", target="list", model=ORDER),
    api("POST", "/orders", "add", target="none", ok=201, writes=True, model=ORDER,
        body=_order_new),
    api("POST", "/orders/import", "add", target="none", writes=True, model=ORDER,
        body=_import),
    api("POST", "/orders/import-csv", "add", target="none", ok=202, model=ORDER),
    api("GET", "/orders/import-jobs/{job_id}", "starter", target="none"),
    api("GET", "/orders/{order_id}", "view", model=ORDER),
    api("PATCH", "/orders/{order_id}", "change", writes=True, model=ORDER,
        body=_with({"payment_status": "paid"})),
    api("POST", "/orders/{order_id}/returns", "change", ok=201, writes=True, model=ORDER,
        body={"kind": "refund", "amount": "1", "reason": "破损"}),
]

ROUTES = testing.register("sales", PAGE_ROUTES + API_ROUTES)


# The world -------------------------------------------------------------------------------

@dataclass
class World:
    users: dict[str, User]
    who: dict[str, Who]
    customers: dict[str, int]
    objects: dict[str, dict[str, Owned]]
    quotes: dict[str, dict[str, int]]
    product: int
    tax_rate: int
    price_list: int
    item: int
    job: int
    stage: int
    sessions: dict[str, Client]
    tokens: dict[str, str]
    caller: str = ""  # the actor of the request being built

    def own_customer(self) -> int:
        """The caller's own customer (a rep's), else "mine" (east's, which managers and
        administrators may use)."""
        mine = {owner: name for name, owner in OWNERS.items()}
        return self.customers[mine.get(self.caller, "mine")]

    def params(self, obj: Owned | None) -> dict[str, int]:
        out = {"product_id": self.product, "price_list_id": self.price_list,
               "item_id": self.item, "job_id": self.job}
        if obj is not None:
            key = {LEAD: "lead_id", OPPORTUNITY: "opportunity_id", ORDER: "order_id"}
            if obj.model == QUOTE:
                out.update({f"quote_{s}": self.quotes[s][obj.name] for s in QUOTE_STATES})
            else:
                out[key[obj.model]] = obj.pk
        return out

    def version(self, obj: Owned | None, state: str = "") -> int:
        if obj is None:
            return 1
        if obj.model == QUOTE:
            return Quote.objects.get(pk=self.quotes[state][obj.name]).version
        model = {LEAD: Lead, OPPORTUNITY: Opportunity, ORDER: Order}[obj.model]
        return model.objects.get(pk=obj.pk).version

    def name_of(self, model: str, pk: int) -> str:
        if model == QUOTE:
            return next((n for table in self.quotes.values() for n, v in table.items()
                         if v == pk), f"#{pk}")
        return next((o.name for o in self.objects[model].values() if o.pk == pk), f"#{pk}")


def _owned(name: str, obj, model: str) -> Owned:
    return Owned(name=name, owner_id=obj.owner_id, team_id=obj.team_id, pk=obj.pk, model=model)


def _build_world() -> World:
    users = testing.shipped_users()
    users["inactive"] = testing.user("inactive", "sales", "east")
    actors = {name: testing.actor(u) for name, u in users.items()}
    admin = actors["admin"]
    vat = TaxRate.objects.get_or_create(code="vat13", defaults={
        "name": "增值税 13%", "rate": Decimal("0.13")})[0]
    product = product_services.product_create(actor=admin, data={
        "sku": "TEA-1", "name": "龙井茶", "list_price": Decimal("100"), "tax_rate": vat.pk})
    pl = product_services.price_list_create(actor=admin, data={"name": "会员价"})
    item = product_services.price_list_item_set(actor=admin, price_list_id=pl.pk,
                                                product_id=product.pk, price=Decimal("90"))
    customers: dict[str, int] = {}
    objects: dict[str, dict[str, Owned]] = {m: {} for m in (LEAD, OPPORTUNITY, QUOTE, ORDER)}
    quotes: dict[str, dict[str, int]] = {s: {} for s in QUOTE_STATES}
    for name, owner in OWNERS.items():
        who = actors[owner]
        c = customer(who, f"销售{name}", kind="organisation")
        customers[name] = c.pk
        lead = lead_services.lead_create(actor=who, data={"name": f"线索{name}",
                                                          "company": f"公司{name}",
                                                          "email": f"{name}@example.org"})
        objects[LEAD][name] = _owned(name, Lead.objects.get(pk=lead.pk), LEAD)
        opp = opp_services.opportunity_create(actor=who, data={
            "name": f"商机{name}", "customer": c.pk, "amount": "1000"})
        objects[OPPORTUNITY][name] = _owned(name, opp, OPPORTUNITY)
        for state in QUOTE_STATES:
            q = quote_services.quote_create(actor=who, customer_id=c.pk, lines=[
                {"product": product.pk, "quantity": "1", "discount": "0.3"}])
            Quote.objects.filter(pk=q.pk).update(status=state)
            quotes[state][name] = q.pk
        objects[QUOTE][name] = _owned(name, q, QUOTE)
        order = order_services.order_create(actor=who, customer_id=c.pk, lines=[LINE],
                                            source="shop", external_id=f"X-{name}")
        objects[ORDER][name] = _owned(name, order, ORDER)
    job = order_services.order_import_job_create(
        actor=actors["sales1"], content=CSV.replace(b"{cid}", str(customers["mine"]).encode()),
        filename="o.csv", enqueue=False)
    stage = Stage.objects.filter(pipeline__is_default=True, is_won=False, is_lost=False
                                 ).order_by("position")[1]
    sessions, tokens = {ANONYMOUS: Client()}, {}
    for name, u in users.items():
        sessions[name] = Client()
        sessions[name].force_login(u)
        tokens[name] = core_services.token_create(actor=actors[name], user=u)
    User.objects.filter(pk=users["inactive"].pk).update(is_active=False)
    users["inactive"].refresh_from_db()
    who = {name: Who.of(name, users[name]) for name in ACTORS if name != ANONYMOUS}
    who[ANONYMOUS] = Who(name=ANONYMOUS)
    return World(users=users, who=who, customers=customers, objects=objects, quotes=quotes,
                 product=product.pk, tax_rate=vat.pk, price_list=pl.pk, item=item.pk,
                 job=job.pk, stage=stage.pk, sessions=sessions, tokens=tokens)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with transaction.atomic():
            yield _build_world()
            transaction.set_rollback(True)


# Running a row ---------------------------------------------------------------------------

LINKS = {LEAD: r"/sales/leads/(\d+)/", OPPORTUNITY: r"/sales/opportunities/(\d+)/",
         QUOTE: r"/sales/quotes/(\d+)/", ORDER: r"/sales/orders/(\d+)/"}


def _shown(route: Route, body: str, world: World) -> set[str]:
    if route.api:
        pks = {i["id"] for i in json.loads(body)["items"]}
    else:
        pks = {int(pk) for pk in re.findall(LINKS[route.model], body)}
    return {world.name_of(route.model, pk) for pk in pks} - {""}


def _inspector(route: Route, world: World):
    def inspect(run: testing.MatrixRun, who: Who, obj: Owned | None, response) -> None:
        if route.target == "list":
            expected = testing.in_scope(who, world.objects[route.model].values())
            shown = {n for n in _shown(route, testing.text_of(response), world)
                     if not n.startswith("#")}
            run.expect(who.name, None, "shown", expected, shown)
    return inspect


def _expect(route: Route, who: Who, obj: Owned | None) -> int:
    if route.check == "starter":  # the import job was started by sales1
        return route.ok if who.name == "sales1" or testing.role_is_admin(who.role) else 404
    return testing.expected_status(route, who, obj)


def _caller(world: World):
    anonymous = Client()

    def call(route: Route, actor: str, obj: Owned | None):
        url = route.url.format(**world.params(obj)) + route.query
        world.caller = actor
        body = route.body(world, obj) if callable(route.body) else route.body
        if route.key == "POST /api/v1/products":
            body = {**body, "tax_rate": world.tax_rate}
        if route.api:
            key = world.tokens.get(actor)
            client = anonymous
            headers = {"Authorization": f"Bearer {key}"} if key else {}
        else:
            client, headers = world.sessions[actor], {}
        if route.key == "opportunity_move":  # the board's drop: a JSON answer
            headers = {"Accept": "application/json"}
        method = getattr(client, route.method.lower())
        if route.method == "GET":
            return method(url, headers=headers)
        if route.key == "POST /api/v1/orders/import-csv":
            from django.core.files.uploadedfile import SimpleUploadedFile

            content = CSV.replace(b"{cid}", str(world.customers["mine"]).encode())
            return method(url, {"file": SimpleUploadedFile("o.csv", content)}, headers=headers)
        if route.api:
            return method(url, json.dumps(body or {}), content_type="application/json",
                          headers=headers)
        return method(url, body or {}, headers=headers)
    return call


def _targets(route: Route, world: World) -> dict[str, Owned]:
    return world.objects.get(route.model, {})


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.url}{r.query}" for r in ROUTES])
def test_matrix(route: Route, world: World):
    run = testing.run_matrix(route, world.who, _targets(route, world), call=_caller(world),
                             expect=_expect, inspect=_inspector(route, world),
                             audit_count=AuditRecord.objects.count)
    run.check()


def test_another_team_sees_nothing_of_east(world):
    """sales2 (north): every east lead, opportunity, quote and order answers 404."""
    client = world.sessions["sales2"]
    for name in ("mine", "teammate"):
        urls = [f"/sales/leads/{world.objects[LEAD][name].pk}/",
                f"/sales/opportunities/{world.objects[OPPORTUNITY][name].pk}/",
                f"/sales/quotes/{world.quotes['draft'][name]}/",
                f"/sales/quotes/{world.quotes['draft'][name]}/pdf/",
                f"/sales/orders/{world.objects[ORDER][name].pk}/"]
        for url in urls:
            assert client.get(url).status_code == 404, url
