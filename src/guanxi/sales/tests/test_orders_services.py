"""Order services: totals, tax and exchange rates, numbering, idempotency, versions, the
status flow, returns and refunds, audit records and events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.models import AuditRecord
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Order, OrderLine, OrderReturn, Product, TaxRate
from guanxi.sales.services import fx
from guanxi.sales.services import orders as services

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(actors):
    return {
        "mine": customer(actors["sales1"], "张三", phone="13812345678"),
        "teammate": customer(actors["sales1b"], "李四"),
        "other": customer(actors["sales2"], "王五"),
    }


@pytest.fixture
def usd(actors):
    fx.exchange_rate_set(actor=actors["admin"], currency="USD", valid_from=dt.date(2020, 1, 1),
                         rate=D("7.10"))
    fx.exchange_rate_set(actor=actors["admin"], currency="USD", valid_from=dt.date(2025, 1, 1),
                         rate=D("7.20"))


def line(**kw):
    return {"sku": "A-1", "description": "茶叶", "quantity": D("2"),
            "unit_price": D("100.00"), "tax_rate": D("0.13"), **kw}


def test_totals_tax_and_cost_are_computed_per_line(actors, world, users):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk, lines=[
        line(quantity=D("3"), unit_price=D("33.33"), unit_cost=D("20")),
        line(sku="B-2", quantity=D("1.5"), unit_price=D("9.99"), tax_rate=D("0.06"),
             unit_cost=D("5.50")),
    ])
    # 3 × 33.33 = 99.99, tax 13.00 (12.9987); 1.5 × 9.99 = 14.985 → 14.99, tax 0.90 (0.8994)
    assert o.tax_total == D("13.90")
    assert o.total == D("99.99") + D("14.99") + D("13.90")
    assert o.total_cny == o.total and o.currency == "CNY"
    assert o.cost_cny == D("68.25")
    assert (o.owner_id, o.team_id) == (users["sales1"].pk, users["sales1"].team_id)
    assert o.number.startswith(f"SO-{timezone.localdate():%Y%m}-")
    amounts = list(OrderLine.objects.filter(order=o).values_list("line_no", "amount"))
    assert amounts == [(1, D("99.99")), (2, D("14.99"))]
    assert o.created is True


def test_cost_is_unknown_when_a_line_lacks_it(actors, world):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk, lines=[
        line(unit_cost=D("10")), line()])
    assert o.cost_cny is None


def test_foreign_currency_uses_the_rate_of_the_order_date(actors, world, usd):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              currency="USD", ordered_at=dt.datetime(2024, 6, 18, 10, 0),
                              lines=[line(quantity=D("1"), unit_price=D("100"),
                                          tax_rate=D("0"))])
    assert o.total == D("100.00") and o.total_cny == D("710.00")
    assert Order.objects.get(pk=o.pk).currency == "USD"
    o2 = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                               currency="USD", ordered_at=dt.datetime(2025, 3, 1),
                               lines=[line(quantity=D("1"), unit_price=D("100"),
                                           tax_rate=D("0"))])
    assert o2.total_cny == D("720.00")


def test_missing_exchange_rate_names_the_currency(actors, world):
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              currency="EUR", lines=[line()])
    assert "No exchange rate for EUR" in exc.value.message_dict["currency"][0]


def test_product_supplies_defaults(actors, world):
    rate = TaxRate.objects.get(code="vat9")
    p = Product.objects.create(sku="RICE-5", name="五常大米 5kg", list_price=D("88"),
                               cost=D("50"), tax_rate=rate)
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk, lines=[
        {"sku": "RICE-5", "quantity": 2, "unit_price": "80"},
        {"product_id": p.pk, "quantity": "1", "unit_price": "88"}])
    lines = list(OrderLine.objects.filter(order=o))
    assert [ln.product_id for ln in lines] == [p.pk, p.pk]
    assert [ln.description for ln in lines] == ["五常大米 5kg"] * 2
    assert [ln.tax_rate for ln in lines] == [D("0.09")] * 2
    assert o.cost_cny == D("150.00")
    assert o.tax_total == D("14.40") + D("7.92")


def test_field_errors_name_the_line_and_field(actors, world):
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk, lines=[
            line(), line(quantity="0", unit_price="1.234", tax_rate="1.5"),
            {"quantity": 1, "unit_price": 1}])
    errors = exc.value.message_dict
    assert set(errors) == {"lines.1.quantity", "lines.1.unit_price", "lines.1.tax_rate",
                           "lines.2.description"}
    assert errors["lines.1.unit_price"] == ["At most 2 decimal places."]
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line(quantity=D("99999999999"),
                                          unit_price=D("9999999999999999"))])
    assert exc.value.message_dict == {"lines.0.quantity": ["The line's amount is too large."]}
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk, lines=[],
                              status="lost")
    assert set(exc.value.message_dict) == {"lines", "status"}


def test_customer_outside_scope_is_refused(actors, world):
    # sales2 cannot see east's customers: the id is unknown to them.
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=actors["sales2"], customer_id=world["mine"].pk,
                              lines=[line()])
    assert exc.value.message_dict == {"customer_id": ["No such customer."]}
    # sales1 sees a teammate's customer but adds orders only for their own.
    with pytest.raises(PermissionDenied):
        services.order_create(actor=actors["sales1"], customer_id=world["teammate"].pk,
                              lines=[line()])
    # the manager adds for the whole team, not for another team.
    o = services.order_create(actor=actors["manager"], customer_id=world["teammate"].pk,
                              lines=[line()])
    assert o.owner.username == "sales1b"
    with pytest.raises(PermissionDenied):
        services.order_create(actor=actors["analyst"], customer_id=world["mine"].pk,
                              lines=[line()])


def test_same_external_id_never_counts_twice(actors, world):
    kw = {"customer_id": world["mine"].pk, "lines": [line()], "source": "erp",
          "external_id": "E-1"}
    first = services.order_create(actor=actors["sales1"], **kw)
    again = services.order_create(actor=actors["sales1"], **kw)
    assert again.pk == first.pk and again.created is False
    assert Order.objects.filter(source="erp", external_id="E-1").count() == 1
    assert AuditRecord.objects.filter(model="sales.order").count() == 1
    # Another team's actor cannot reuse (or see) it.
    with pytest.raises(ValidationError) as exc:
        services.order_create(actor=actors["sales2"], customer_id=world["other"].pk,
                              lines=[line()], source="erp", external_id="E-1")
    assert "external_id" in exc.value.message_dict


def test_numbers_follow_each_other_and_grow_past_99999(actors, world):
    a = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    b = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    assert int(b.number[-5:]) == int(a.number[-5:]) + 1
    stem = a.number[:-5]
    Order.objects.filter(pk=b.pk).update(number=f"{stem}99999")
    c = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    assert c.number == f"{stem}100000"
    Order.objects.filter(pk=a.pk).update(number=f"{stem}100007")  # an older row, higher number
    d = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    assert d.number == f"{stem}100008"


def test_create_audits_and_emits_on_commit(actors, world, users, events,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                                  lines=[line()], channel="门店")
    rec = AuditRecord.objects.get(model="sales.order", object_id=str(o.pk))
    assert rec.action == "create" and rec.channel == "web" and rec.actor_label == "sales1"
    assert rec.customer_id == world["mine"].pk
    assert rec.changes["total"] == [None, "226.00"]
    assert rec.changes["lines"] == [None, ["A-1 × 2 @ 100.00"]]
    assert ("sales.order_created", {"order_id": o.pk, "customer_id": world["mine"].pk,
                                    "actor_id": users["sales1"].pk}) in events


def test_rolled_back_create_leaves_no_order_audit_or_event(actors, world, events,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                                  lines=[line()])
            raise RuntimeError("boom")
    assert not Order.objects.exists()
    assert not AuditRecord.objects.filter(model="sales.order").exists()
    assert events == []


def test_status_and_payment_with_version_check(actors, world, events,
                                               django_capture_on_commit_callbacks):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    with django_capture_on_commit_callbacks(execute=True):
        o2 = services.order_update_status(actor=actors["sales1"], order_id=o.pk, version=1,
                                          status="shipped")
    assert o2.version == 2 and o2.status == "shipped"
    rec = AuditRecord.objects.get(model="sales.order", action="update")
    assert rec.changes == {"status": ["confirmed", "shipped"]}
    assert any(n == "sales.order_updated" and p["fields"] == ["status"] for n, p in events)
    with pytest.raises(Conflict) as exc:
        services.order_update_payment(actor=actors["sales1"], order_id=o.pk, version=1,
                                      payment_status="paid")
    assert exc.value.current_version == 2
    assert exc.value.current["status"] == "shipped"
    services.order_update_payment(actor=actors["sales1"], order_id=o.pk, version=2,
                                  payment_status="paid")
    with pytest.raises(ValidationError) as exc:
        services.order_update_status(actor=actors["sales1"], order_id=o.pk, version=3,
                                     status="open")
    assert "status" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.order_cancel(actor=actors["sales1"], order_id=o.pk, version=3)
    assert Order.objects.get(pk=o.pk).version == 3


def test_cancel_keeps_the_reason_in_the_audit_trail(actors, world, events,
                                                   django_capture_on_commit_callbacks):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(actor=actors["sales1"], order_id=o.pk, version=1,
                              reason="客户改主意")
    rec = AuditRecord.objects.get(model="sales.order", action="update")
    assert rec.changes == {"status": ["confirmed", "cancelled"], "reason": [None, "客户改主意"]}
    assert any(n == "sales.order_cancelled" for n, _p in events)


def test_change_needs_the_change_scope(actors, world):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    with pytest.raises(PermissionDenied):  # a teammate sees it but may not change it
        services.order_update_status(actor=actors["sales1b"], order_id=o.pk, version=1,
                                     status="shipped")
    with pytest.raises(NotFound):  # another team does not see it at all
        services.order_update_status(actor=actors["sales2"], order_id=o.pk, version=1,
                                     status="shipped")


def test_returns_may_not_exceed_what_remains(actors, world, usd, events,
                                             django_capture_on_commit_callbacks):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              currency="USD", ordered_at=dt.datetime(2025, 2, 1),
                              status="completed", payment_status="paid",
                              lines=[line(quantity=D("3"), unit_price=D("33.33"))])
    assert (o.total, o.total_cny) == (D("112.99"), D("813.53"))
    with django_capture_on_commit_callbacks(execute=True):
        r1 = services.return_create(actor=actors["sales1"], order_id=o.pk, kind="return",
                                    amount="37.66", reason="破损")
    assert r1.amount_cny == D("271.15")  # the same share of total_cny
    with pytest.raises(ValidationError) as exc:
        services.return_create(actor=actors["sales1"], order_id=o.pk, kind="refund",
                               amount="75.34")
    assert exc.value.message_dict["amount"] == [
        "At most 75.33 USD remain to return on this order."]
    with pytest.raises(ValidationError) as exc:
        services.return_create(actor=actors["sales1"], order_id=o.pk, kind="refund",
                               amount="-1")
    assert "amount" in exc.value.message_dict
    r2 = services.return_create(actor=actors["sales1"], order_id=o.pk, kind="refund",
                                amount="75.33", external_id="RF-9")
    # The whole order came back: CNY nets to zero exactly and the order is refunded.
    assert r1.amount_cny + r2.amount_cny == o.total_cny
    o.refresh_from_db()
    assert o.payment_status == "refunded" and o.version == 2
    again = services.return_create(actor=actors["sales1"], order_id=o.pk, kind="refund",
                                   amount="75.33", external_id="RF-9")
    assert again.pk == r2.pk and OrderReturn.objects.count() == 2
    recs = AuditRecord.objects.filter(model="sales.orderreturn")
    assert recs.count() == 2 and all(r.customer_id == world["mine"].pk for r in recs)
    assert any(n == "sales.return_created" and p["order_id"] == o.pk for n, p in events)


def test_goods_come_back_only_from_shipped_orders(actors, world):
    o = services.order_create(actor=actors["sales1"], customer_id=world["mine"].pk,
                              lines=[line()])
    with pytest.raises(ValidationError) as exc:
        services.return_create(actor=actors["sales1"], order_id=o.pk, kind="return",
                               amount="10")
    assert "kind" in exc.value.message_dict
    services.return_create(actor=actors["sales1"], order_id=o.pk, kind="refund", amount="10")
    services.order_cancel(actor=actors["sales1"], order_id=o.pk, version=1)
    with pytest.raises(ValidationError) as exc:
        services.return_create(actor=actors["sales1"], order_id=o.pk, kind="refund",
                               amount="10")
    assert "order" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.return_create(actor=actors["sales1"], order_id=o.pk, kind="gift",
                               amount="x", at="yesterday")
    assert set(exc.value.message_dict) == {"kind", "amount", "at"}
