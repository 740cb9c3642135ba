"""Quote services: the arithmetic (hand-checked and as a property), pricing from price lists,
field errors, the approval threshold and separation of duties, versions, access, audit,
events, and the way to an order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from guanxi.core.access import Actor
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.models import AuditRecord
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import (
    Opportunity,
    Order,
    OrderLine,
    Pipeline,
    Quote,
    QuoteLine,
    Stage,
    TaxRate,
)
from guanxi.sales.services import products as product_services
from guanxi.sales.services import quotes as services
from guanxi.sales.services.quotes import line_amounts, quote_totals

D = Decimal
CENT = D("0.01")
ZERO = D("0")


# Helpers other quote test modules import ------------------------------------------------

def make_catalog(admin: Actor) -> SimpleNamespace:
    """Two VAT rates, a licence (13%) on a channel price list, a service (6%) off it."""
    vat13 = TaxRate.objects.get_or_create(code="vat13", defaults={
        "name": "增值税 13%", "rate": D("0.13")})[0]
    vat6 = TaxRate.objects.get_or_create(code="vat6", defaults={
        "name": "增值税 6%", "rate": D("0.06")})[0]
    licence = product_services.product_create(actor=admin, data={
        "sku": "GX-LIC", "name": "企业版软件许可", "unit": "套", "list_price": D("1000.00"),
        "cost": D("400.00"), "tax_rate": vat13.pk})
    service = product_services.product_create(actor=admin, data={
        "sku": "GX-SVC", "name": "实施服务", "unit": "人天", "list_price": D("2000.00"),
        "tax_rate": vat6.pk})
    price_list = product_services.price_list_create(actor=admin, data={
        "name": "渠道价", "currency": "CNY", "relation_kind": "intermediary"})
    product_services.price_list_item_set(actor=admin, price_list_id=price_list.pk,
                                         product_id=licence.pk, price=D("900.00"))
    return SimpleNamespace(vat13=vat13, vat6=vat6, licence=licence, service=service,
                           price_list=price_list)


def make_quote(actor: Actor, customer_id: int, cat: SimpleNamespace, *,
               discount: Decimal = ZERO, **kw) -> Quote:
    return services.quote_create(actor=actor, customer_id=customer_id,
                                 price_list_id=cat.price_list.pk, lines=[
                                     {"product": cat.licence.pk, "quantity": D("2"),
                                      "discount": discount}], **kw)


@pytest.fixture
def cat(actors):
    return make_catalog(actors["admin"])


@pytest.fixture
def acme(actors):
    return customer(actors["sales1"], "华信科技有限公司", kind="organisation")


pytestmark = pytest.mark.django_db


# Arithmetic -------------------------------------------------------------------------------

def test_line_amounts_hand_checked():
    # 3 × 19.99 = 59.97; VAT 13%: 7.7961 → 7.80
    a = line_amounts(D("3"), D("19.99"), D("0"), D("0.13"))
    assert (a.gross, a.discount, a.net, a.tax, a.total) == (
        D("59.97"), D("0.00"), D("59.97"), D("7.80"), D("67.77"))
    # 2.5 × 10.10 = 25.25; 15% off: 21.4625 → 21.46, so 3.79 off; VAT 9%: 1.9314 → 1.93
    a = line_amounts(D("2.5"), D("10.10"), D("0.15"), D("0.09"))
    assert (a.gross, a.discount, a.net, a.tax) == (D("25.25"), D("3.79"), D("21.46"),
                                                   D("1.93"))
    # half a cent rounds up: 0.05 × 50% = 0.025 → 0.03; VAT 6%: 0.0018 → 0.00
    a = line_amounts(D("1"), D("0.05"), D("0.5"), D("0.06"))
    assert (a.gross, a.discount, a.net, a.tax) == (D("0.05"), D("0.02"), D("0.03"), D("0.00"))


def test_quote_totals_hand_checked():
    t = quote_totals([(D("3"), D("19.99"), D("0"), D("0.13")),
                      (D("2.5"), D("10.10"), D("0.15"), D("0.09")),
                      (D("1"), D("0.05"), D("0.5"), D("0.06"))])
    assert t.subtotal == D("85.27")
    assert t.discount_total == D("3.81")
    assert t.tax_total == D("9.73")
    assert t.total == D("91.19")  # 85.27 − 3.81 + 9.73
    assert t.max_discount == D("0.5")
    assert quote_totals([]) == services.Totals(D("0.00"), D("0.00"), D("0.00"), D("0.00"),
                                               D("0"))


line_strategy = st.tuples(
    st.decimals(min_value=D("0.001"), max_value=D("100000"), places=3),
    st.decimals(min_value=D("0"), max_value=D("1000000"), places=2),
    st.decimals(min_value=D("0"), max_value=D("1"), places=4),
    st.sampled_from([D("0.13"), D("0.09"), D("0.06"), D("0.03"), D("0.01"), D("0")]),
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(line_strategy, max_size=12))
def test_totals_property(lines):
    t = quote_totals(lines)
    for value in (t.subtotal, t.discount_total, t.tax_total, t.total):
        assert value == value.quantize(CENT)
    assert t.total == t.subtotal - t.discount_total + t.tax_total
    assert D("0") <= t.discount_total <= t.subtotal
    nets = [line_amounts(*ln).net for ln in lines]
    assert t.subtotal - t.discount_total == sum(nets, D("0"))
    exact_tax = sum((n * ln[3] for n, ln in zip(nets, lines, strict=True)), D("0"))
    assert abs(t.tax_total - exact_tax) <= D("0.005") * len(lines)
    assert t.max_discount == max((ln[2] for ln in lines), default=D("0"))


# Create -----------------------------------------------------------------------------------

def test_create_prices_lines_stores_totals_audits_and_emits(
        actors, users, cat, acme, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        q = services.quote_create(
            actor=actors["sales1"], customer_id=acme.pk, price_list_id=cat.price_list.pk,
            notes=" 付款方式：月结30天 ", lines=[
                {"product": cat.licence.pk, "quantity": D("2"), "discount": D("0.1")},
                {"product": cat.service.pk, "quantity": D("3")},
                {"description": "差旅费", "quantity": 1, "unit_price": D("500"),
                 "tax_rate": D("0.06")},
            ])
    lines = list(QuoteLine.objects.filter(quote=q).order_by("position"))
    # licence from the price list (900, not 1000) at 13%; service at its list price at 6%
    assert [(ln.description, ln.unit_price, ln.tax_rate) for ln in lines] == [
        ("企业版软件许可", D("900.00"), D("0.1300")), ("实施服务", D("2000.00"), D("0.0600")),
        ("差旅费", D("500.00"), D("0.0600"))]
    # 1800 − 180 = 1620 (VAT 210.60); 6000 (VAT 360); 500 (VAT 30)
    q.refresh_from_db()
    assert (q.subtotal, q.discount_total, q.tax_total, q.total, q.max_discount) == (
        D("8300.00"), D("180.00"), D("600.60"), D("8720.60"), D("0.1000"))
    assert (q.status, q.currency, q.notes) == ("draft", "CNY", "付款方式：月结30天")
    assert (q.owner_id, q.team_id) == (users["sales1"].pk, users["sales1"].team_id)
    assert q.number == f"QT-{timezone.localdate():%Y%m}-00001"
    assert q.valid_until == q.issued_on + dt.timedelta(days=30)
    rec = AuditRecord.objects.get(model="sales.quote", object_id=str(q.pk))
    assert rec.action == "create" and rec.customer_id == acme.pk
    assert rec.changes["total"] == [None, "8720.60"] and len(rec.changes["lines"][1]) == 3
    assert ("sales.quote_created", {"quote_id": q.pk, "customer_id": acme.pk,
                                    "actor_id": users["sales1"].pk}) in events
    second = make_quote(actors["sales1"], acme.pk, cat)
    assert second.number.endswith("-00002")


def test_numbers_keep_counting_past_99999(actors, acme, cat):
    """As text "-100000" sorts below "-99999"; the next number still follows the highest."""
    stem = f"QT-{timezone.localdate():%Y%m}-"
    a = make_quote(actors["sales1"], acme.pk, cat)
    b = make_quote(actors["sales1"], acme.pk, cat)
    Quote.objects.filter(pk=a.pk).update(number=f"{stem}99999")
    Quote.objects.filter(pk=b.pk).update(number=f"{stem}100000")
    assert make_quote(actors["sales1"], acme.pk, cat).number == f"{stem}100001"
    Quote.objects.filter(pk=b.pk).update(number=f"{stem}99998")  # the longest number wins,
    Quote.objects.filter(pk=a.pk).update(number=f"{stem}100007")  # not the newest row
    assert make_quote(actors["sales1"], acme.pk, cat).number == f"{stem}100008"


def test_foreign_list_price_converts_to_cny(actors, acme, cat):
    from guanxi.sales.services import fx

    product_services.product_update(actor=actors["admin"], product_id=cat.service.pk,
                                    version=1, changes={"currency": "USD",
                                                        "list_price": D("100")})
    with pytest.raises(ValidationError) as exc:
        services.quote_create(actor=actors["sales1"], customer_id=acme.pk,
                              lines=[{"product": cat.service.pk}])
    assert "lines.0.unit_price" in exc.value.message_dict
    fx.exchange_rate_set(actor=actors["admin"], currency="USD",
                         valid_from=dt.date(2020, 1, 1), rate=D("7.2"))
    q = services.quote_create(actor=actors["sales1"], customer_id=acme.pk,
                              lines=[{"product": cat.service.pk}])
    assert q.subtotal == D("720.00")


def test_errors_are_keyed_by_line_and_field(actors, acme, cat):
    with pytest.raises(ValidationError) as exc:
        services.quote_create(actor=actors["sales1"], customer_id=acme.pk, lines=[
            {"product": cat.licence.pk, "quantity": D("0")},
            {"product": 999999},
            {"description": "咨询", "unit_price": D("10")},
            {"description": "", "unit_price": D("-1"), "tax_rate": D("0.13")},
            {"product": cat.licence.pk, "discount": D("1.5"), "colour": "red"},
        ])
    errors = exc.value.message_dict
    assert {"lines.0.quantity", "lines.1.product", "lines.2.tax_rate", "lines.3.description",
            "lines.3.unit_price", "lines.4.discount", "lines.4.colour"} <= set(errors)
    assert not Quote.objects.exists()


def test_customer_price_list_and_opportunity_must_be_visible_and_fit(actors, users, acme,
                                                                     cat):
    other = customer(actors["sales2"], "北方客户")
    with pytest.raises(ValidationError) as exc:
        services.quote_create(actor=actors["sales1"], customer_id=other.pk)
    assert exc.value.message_dict == {"customer": ["No such customer."]}
    product_services.price_list_update(actor=actors["admin"], price_list_id=cat.price_list.pk,
                                       version=cat.price_list.version,
                                       changes={"active": False})
    pipeline = Pipeline.objects.create(name="测试漏斗")
    stage = Stage.objects.create(pipeline=pipeline, name="方案", position=1,
                                 probability=D("0.5"))
    theirs = Opportunity.objects.create(name="北方商机", customer=other, pipeline=pipeline,
                                        stage=stage, owner=users["sales2"],
                                        team=users["sales2"].team)
    mine_elsewhere = Opportunity.objects.create(
        name="另一个客户的商机", customer=customer(actors["sales1"], "别的客户"),
        pipeline=pipeline, stage=stage, owner=users["sales1"], team=users["sales1"].team)
    with pytest.raises(ValidationError) as exc:
        services.quote_create(actor=actors["sales1"], customer_id=acme.pk,
                              price_list_id=cat.price_list.pk, opportunity_id=theirs.pk)
    assert set(exc.value.message_dict) == {"price_list", "opportunity"}
    with pytest.raises(ValidationError) as exc:
        services.quote_create(actor=actors["sales1"], customer_id=acme.pk,
                              opportunity_id=mine_elsewhere.pk)
    assert "opportunity" in exc.value.message_dict
    fits = Opportunity.objects.create(name="华信二期", customer=acme, pipeline=pipeline,
                                      stage=stage, owner=users["sales1"],
                                      team=users["sales1"].team)
    q = services.quote_create(actor=actors["sales1"], customer_id=acme.pk,
                              opportunity_id=fits.pk)
    assert q.opportunity_id == fits.pk


def test_roles_without_add_cannot_create(actors, acme):
    with pytest.raises(PermissionDenied):
        services.quote_create(actor=actors["analyst"], customer_id=acme.pk)


# Approval ---------------------------------------------------------------------------------

def test_discount_at_threshold_is_approved_on_submit(actors, acme, cat, events,
                                                     django_capture_on_commit_callbacks):
    q = make_quote(actors["sales1"], acme.pk, cat, discount=D("0.15"))
    with django_capture_on_commit_callbacks(execute=True):
        q = services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=q.version)
    assert q.status == "approved" and q.approved_by_id is None and q.approved_at
    assert ("sales.quote_approved", {"quote_id": q.pk, "approver_id": None,
                                     "automatic": True}) in events


def test_discount_above_threshold_waits_for_a_manager(actors, users, acme, cat, events,
                                                      django_capture_on_commit_callbacks):
    q = make_quote(actors["sales1"], acme.pk, cat, discount=D("0.2"))
    with django_capture_on_commit_callbacks(execute=True):
        q = services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1)
    assert q.status == "pending" and q.version == 2
    requested = [p for n, p in events if n == "sales.quote_approval_requested"]
    # the team's manager and the administrator; never the owner or the system user
    assert requested == [{"quote_id": q.pk, "approver_ids": sorted(
        [users["manager"].pk, users["admin"].pk]), "owner_id": users["sales1"].pk,
        "max_discount": "0.2000"}]
    with pytest.raises(PermissionDenied):  # a representative may not approve
        services.quote_approve(actor=actors["sales1b"], quote_id=q.pk, version=2)
    with django_capture_on_commit_callbacks(execute=True):
        q = services.quote_approve(actor=actors["manager"], quote_id=q.pk, version=2)
    assert (q.status, q.approved_by_id) == ("approved", users["manager"].pk)
    assert ("sales.quote_approved", {"quote_id": q.pk, "approver_id": users["manager"].pk,
                                     "automatic": False}) in events
    rec = AuditRecord.objects.filter(model="sales.quote", object_id=str(q.pk)).order_by(
        "-id").first()
    assert rec.changes == {"status": ["pending", "approved"],
                           "approved_by": [None, users["manager"].pk]}


def test_threshold_is_a_setting(actors, acme, cat, settings):
    settings.QUOTE_APPROVAL_DISCOUNT = "0.25"
    q = make_quote(actors["sales1"], acme.pk, cat, discount=D("0.2"))
    assert services.quote_submit(actor=actors["sales1"], quote_id=q.pk,
                                 version=1).status == "approved"


def test_nobody_approves_their_own_discount(actors, users, cat):
    theirs = customer(actors["manager"], "经理的客户")
    q = make_quote(actors["manager"], theirs.pk, cat, discount=D("0.3"))
    q = services.quote_submit(actor=actors["manager"], quote_id=q.pk, version=1)
    assert q.status == "pending"
    with pytest.raises(PermissionDenied):
        services.quote_approve(actor=actors["manager"], quote_id=q.pk, version=q.version)
    q = services.quote_approve(actor=actors["admin"], quote_id=q.pk, version=q.version)
    assert q.approved_by_id == users["admin"].pk


def test_manager_approves_only_within_the_team(actors, cat):
    north = customer(actors["sales2"], "北方客户")
    q = make_quote(actors["sales2"], north.pk, cat, discount=D("0.3"))
    services.quote_submit(actor=actors["sales2"], quote_id=q.pk, version=1)
    with pytest.raises(NotFound):
        services.quote_approve(actor=actors["manager"], quote_id=q.pk, version=2)
    with pytest.raises(NotFound):
        services.quote_reject(actor=actors["manager"], quote_id=q.pk, version=2)


def test_reject_edit_and_submit_again(actors, acme, cat, events,
                                      django_capture_on_commit_callbacks):
    q = make_quote(actors["sales1"], acme.pk, cat, discount=D("0.3"))
    services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1)
    with django_capture_on_commit_callbacks(execute=True):
        q = services.quote_reject(actor=actors["manager"], quote_id=q.pk, version=2,
                                  reason="折扣太大")
    assert q.status == "rejected"
    assert any(n == "sales.quote_rejected" and p["reason"] == "折扣太大" for n, p in events)
    q.refresh_from_db()
    assert (q.status, q.rejection_reason) == ("rejected", "折扣太大")
    rec = AuditRecord.objects.filter(model="sales.quote", object_id=str(q.pk)).latest("id")
    assert rec.changes == {"status": ["pending", "rejected"],
                           "rejection_reason": [None, "折扣太大"]}
    with pytest.raises(ValidationError):  # only a draft is submitted
        services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=3)
    q = services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=3, lines=[
        {"product": cat.licence.pk, "quantity": D("2"), "discount": D("0.1")}])
    assert (q.status, q.max_discount) == ("draft", D("0.1"))
    q.refresh_from_db()
    assert q.rejection_reason == ""  # back to draft: the rejection no longer holds
    rec = AuditRecord.objects.filter(model="sales.quote", object_id=str(q.pk)).latest("id")
    assert rec.changes["status"] == ["rejected", "draft"]
    assert rec.changes["rejection_reason"] == ["折扣太大", None]
    assert services.quote_submit(actor=actors["sales1"], quote_id=q.pk,
                                 version=4).status == "approved"


# Edits, versions, access ------------------------------------------------------------------

def test_edit_of_approved_quote_goes_back_to_draft_and_audits_lines(actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat)
    q = services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1)
    assert q.status == "approved"
    q = services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=2,
                              changes={"notes": "含安装"},
                              lines=[{"product": cat.licence.pk, "quantity": D("5")}])
    q.refresh_from_db()
    assert (q.status, q.approved_at, q.version, q.subtotal) == ("draft", None, 3,
                                                                D("4500.00"))
    rec = AuditRecord.objects.filter(model="sales.quote", action="update").latest("id")
    assert rec.changes["status"] == ["approved", "draft"]
    assert rec.changes["subtotal"] == ["1800.00", "4500.00"]
    assert "× 5" in rec.changes["lines"][1][0] and "× 2" in rec.changes["lines"][0][0]
    same = services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=3,
                                 changes={"notes": "含安装"})
    assert same.version == 3  # nothing changed, nothing written


def test_stale_version_is_a_conflict(actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat)
    services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=1,
                          changes={"notes": "第一版"})
    for call in (
        lambda: services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=1,
                                      changes={"notes": "第二版"}),
        lambda: services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.current_version == 2
        assert exc.value.current["notes"] == "第一版"
    assert Quote.objects.get(pk=q.pk).notes == "第一版"


def test_teammate_sees_but_may_not_change_other_team_sees_nothing(actors, acme, cat):
    from guanxi.sales.queries import quotes as queries

    q = make_quote(actors["sales1"], acme.pk, cat)
    assert queries.quote_get(actor=actors["sales1b"], quote_id=q.pk).pk == q.pk
    with pytest.raises(PermissionDenied):
        services.quote_update(actor=actors["sales1b"], quote_id=q.pk, version=1,
                              changes={"notes": "x"})
    with pytest.raises(PermissionDenied):
        services.quote_submit(actor=actors["sales1b"], quote_id=q.pk, version=1)
    for call in (lambda: queries.quote_get(actor=actors["sales2"], quote_id=q.pk),
                 lambda: services.quote_update(actor=actors["sales2"], quote_id=q.pk,
                                               version=1, changes={"notes": "x"}),
                 lambda: services.quote_submit(actor=actors["sales2"], quote_id=q.pk,
                                               version=1)):
        with pytest.raises(NotFound):
            call()
    ids = lambda name: {x.pk for x in queries.quote_list(actor=actors[name]).items}  # noqa: E731
    assert ids("sales1b") == {q.pk} and ids("sales2") == set() and ids("manager") == {q.pk}


def test_sent_quote_no_longer_changes_and_expiry_is_checked(actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat)
    services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1)
    q = services.quote_mark_sent(actor=actors["sales1"], quote_id=q.pk, version=2)
    with pytest.raises(ValidationError) as exc:
        services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=3,
                              changes={"notes": "x"})
    assert "status" in exc.value.message_dict
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Quote.objects.filter(pk=q.pk).update(issued_on=yesterday - dt.timedelta(days=30),
                                         valid_until=yesterday)
    with pytest.raises(ValidationError) as exc:
        services.quote_accept(actor=actors["sales1"], quote_id=q.pk, version=3)
    assert "valid_until" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.quote_update(actor=actors["sales1"], quote_id=make_quote(
            actors["sales1"], acme.pk, cat).pk, version=1,
            changes={"valid_until": dt.date(2000, 1, 1)})
    assert "valid_until" in exc.value.message_dict


def test_rolled_back_create_leaves_no_audit_and_no_event(actors, acme, cat, events,
                                                         django_capture_on_commit_callbacks):
    before = AuditRecord.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            make_quote(actors["sales1"], acme.pk, cat)
            raise RuntimeError("boom")
    assert AuditRecord.objects.count() == before
    assert not Quote.objects.exists() and events == []


# To order ---------------------------------------------------------------------------------

def test_an_accepted_quote_becomes_an_order(actors, users, acme, cat, events,
                                            django_capture_on_commit_callbacks):
    q = services.quote_create(actor=actors["sales1"], customer_id=acme.pk,
                              price_list_id=cat.price_list.pk, lines=[
                                  {"product": cat.licence.pk, "quantity": D("3"),
                                   "discount": D("0.125")},
                                  {"description": "培训", "unit_price": D("300"),
                                   "tax_rate": D("0.06")}])
    with pytest.raises(ValidationError):  # a draft is not an order yet
        services.quote_to_order(actor=actors["sales1"], quote_id=q.pk, version=1)
    services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1)
    services.quote_mark_sent(actor=actors["sales1"], quote_id=q.pk, version=2)
    services.quote_accept(actor=actors["sales1"], quote_id=q.pk, version=3)
    with pytest.raises(PermissionDenied):
        services.quote_to_order(actor=actors["sales1b"], quote_id=q.pk, version=4)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.quote_to_order(actor=actors["sales1"], quote_id=q.pk, version=4)
    q.refresh_from_db()
    assert (q.status, q.version) == ("ordered", 5)
    assert isinstance(order, Order) and order.quote_id == q.pk
    assert (order.customer_id, order.status, order.currency) == (acme.pk, "confirmed", "CNY")
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no").values_list(
        "sku", "quantity", "unit_price", "tax_rate", "unit_cost"))
    # 900 less 12.5% = 787.50 a unit
    assert lines == [("GX-LIC", D("3.000"), D("787.50"), D("0.1300"), D("400.00")),
                     ("", D("1.000"), D("300.00"), D("0.0600"), None)]
    assert order.total == q.total  # 2362.50 + 307.13 VAT + 300 + 18 VAT
    assert any(n == "sales.quote_ordered" and p == {"quote_id": q.pk, "order_id": order.pk,
                                                    "customer_id": acme.pk}
               for n, p in events)
    rec = AuditRecord.objects.filter(model="sales.quote", object_id=str(q.pk)).latest("id")
    assert rec.changes == {"status": ["accepted", "ordered"], "order": [None, order.number]}
    with pytest.raises(ValidationError):  # once only
        services.quote_to_order(actor=actors["sales1"], quote_id=q.pk, version=5)
