"""Opportunities: stages and history, win/loss, forecast, board."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.core.exceptions import NotFound, PermissionDenied, ValidationError
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import ExchangeRate, Stage, StageHistory
from guanxi.sales.queries import opportunities as queries
from guanxi.sales.services import opportunities as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def cust(actors):
    return customer(actors["sales1"], "华信科技", kind="organisation")


def stage(code):
    return Stage.objects.get(code=code, pipeline__is_default=True)


def test_create_defaults_and_currency(actors, cust):
    o = services.opportunity_create(actor=actors["sales1"], data={
        "name": "ERP 项目", "customer": cust.pk, "amount": "100000.50"})
    assert o.stage.code == "qualification" and o.amount == Decimal("100000.50")
    assert o.amount_cny == o.amount
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(actor=actors["sales1"], data={
            "name": "x", "customer": cust.pk, "amount": "1.005"})
    assert "amount" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(actor=actors["sales1"], data={
            "name": "x", "customer": cust.pk, "amount": "10", "currency": "USD"})
    assert "currency" in exc.value.message_dict
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2020, 1, 1),
                                rate=Decimal("7.1"))
    o = services.opportunity_create(actor=actors["sales1"], data={
        "name": "x", "customer": cust.pk, "amount": "10", "currency": "USD"})
    assert o.amount_cny == Decimal("71.00")


def test_move_records_history_and_closes(actors, cust):
    o = services.opportunity_create(actor=actors["sales1"], data={"name": "A",
                                                                  "customer": cust.pk})
    services.opportunity_move(actor=actors["sales1"], opportunity_id=o.pk,
                              stage_id=stage("proposal").pk)
    with pytest.raises(ValidationError) as exc:
        services.opportunity_move(actor=actors["sales1"], opportunity_id=o.pk,
                                  stage_id=stage("lost").pk)
    assert "lost_reason" in exc.value.message_dict
    won = services.opportunity_move(actor=actors["sales1"], opportunity_id=o.pk,
                                    stage_id=stage("won").pk)
    assert won.status == "won" and won.closed_at
    hist = list(StageHistory.objects.filter(opportunity=o).order_by("entered_at", "id"))
    assert [h.stage.code for h in hist] == ["qualification", "proposal", "won"]
    assert all(h.left_at for h in hist[:-1]) and hist[-1].left_at is None
    reopened = services.opportunity_move(actor=actors["sales1"], opportunity_id=o.pk,
                                         stage_id=stage("negotiation").pk)
    assert reopened.status == "open" and reopened.closed_at is None


def test_access(actors, cust):
    o = services.opportunity_create(actor=actors["sales1"], data={"name": "A",
                                                                  "customer": cust.pk})
    with pytest.raises(NotFound):
        services.opportunity_move(actor=actors["sales2"], opportunity_id=o.pk,
                                  stage_id=stage("proposal").pk)
    with pytest.raises(PermissionDenied):
        services.opportunity_move(actor=actors["sales1b"], opportunity_id=o.pk,
                                  stage_id=stage("proposal").pk)
    services.opportunity_move(actor=actors["manager"], opportunity_id=o.pk,
                              stage_id=stage("proposal").pk)
    with pytest.raises(NotFound):
        services.opportunity_create(actor=actors["sales2"], data={"name": "B",
                                                                  "customer": cust.pk})
    assert queries.board(actor=actors["sales2"]).columns[2].count == 0
    assert queries.board(actor=actors["sales1b"]).columns[2].count == 1


def test_board_columns_cards_and_recently_closed(actors, users, cust):
    from guanxi.sales.models import Opportunity

    today = timezone.localdate()
    made = {}
    for name, close in [("late", today + dt.timedelta(days=9)), ("none", None),
                        ("soon", today + dt.timedelta(days=1)), ("mid", today)]:
        made[name] = services.opportunity_create(actor=actors["sales1"], data={
            "name": name, "customer": cust.pk, "amount": "100", "expected_close": close})
    services.opportunity_create(actor=actors["manager"], data={
        "name": "manager's", "customer": cust.pk, "amount": "5"})
    for name, code in [("won-now", "won"), ("won-before", "won"), ("lost-now", "lost")]:
        o = services.opportunity_create(actor=actors["sales1"], data={
            "name": name, "customer": cust.pk, "amount": "1000"})
        made[name] = services.opportunity_move(actor=actors["sales1"], opportunity_id=o.pk,
                                               stage_id=stage(code).pk, reason="价格")
    Opportunity.objects.filter(pk=made["won-before"].pk).update(
        closed_at=timezone.now() - dt.timedelta(days=31))

    b = queries.board(actor=actors["sales1"], per_column=3)
    cols = {c.stage.code: c for c in b.columns}
    first = cols["qualification"]
    assert [c["name"] for c in first.cards] == ["mid", "soon", "late"]  # by close, empty last
    assert (first.count, first.amount, first.more) == (5, Decimal("405.00"), True)
    assert [c["name"] for c in cols["won"].cards] == ["won-now"]  # closed in the last 30 days
    assert (cols["won"].count, cols["won"].amount) == (1, Decimal("1000.00"))
    assert [c["name"] for c in cols["lost"].cards] == ["lost-now"]
    assert cols["proposal"].count == 0 and cols["proposal"].cards == []
    mine = queries.board(actor=actors["sales1"], owner=users["sales1"].pk)
    assert [c["name"] for c in mine.columns[0].cards] == ["mid", "soon", "late", "none"]
    assert queries.board(actor=actors["sales2"]).columns[0].count == 0


def test_forecast_and_win_rate(actors, users, cust):
    today = timezone.localdate()
    for amount, code in [("1000", "proposal"), ("3000", "negotiation")]:
        o = services.opportunity_create(actor=actors["sales1"], data={
            "name": code, "customer": cust.pk, "amount": amount, "expected_close": today})
        services.opportunity_move(actor=actors["sales1"], opportunity_id=o.pk,
                                  stage_id=stage(code).pk)
    lost = services.opportunity_create(actor=actors["sales1"], data={"name": "L",
                                                                     "customer": cust.pk})
    services.opportunity_move(actor=actors["sales1"], opportunity_id=lost.pk,
                              stage_id=stage("lost").pk, reason="价格")
    services.target_set(actor=actors["manager"], month=today, amount=Decimal("5000"),
                        team_id=users["sales1"].team_id)
    rows = queries.forecast(actor=actors["manager"])
    this = [r for r in rows if r["month"] == today.replace(day=1)][0]
    assert this["weighted"] == Decimal("2750")  # 1000 × 0.5 + 3000 × 0.75
    assert this["pipeline"] == Decimal("4000") and this["target"] == Decimal("5000")
    rate = queries.win_rate(actor=actors["manager"], start=today, end=today)
    assert rate == {"won": 0, "lost": 1, "rate": 0.0}
    with pytest.raises(PermissionDenied):
        services.target_set(actor=actors["manager"], month=today, amount=Decimal("1"),
                            team_id=users["sales2"].team_id)


def test_a_late_closing_is_on_the_timelines_first_page(actors, cust):
    """An opportunity opened long ago and won today stands at the top of the timeline, even
    behind more than a page of newer openings."""
    from guanxi.core import timeline
    from guanxi.sales.models import Opportunity

    old = services.opportunity_create(actor=actors["sales1"], data={
        "name": "老项目", "customer": cust.pk, "amount": "100"})
    now = timezone.now()
    for i in range(25):
        services.opportunity_create(actor=actors["sales1"], data={
            "name": f"新项目{i}", "customer": cust.pk, "amount": "100"})
    Opportunity.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=400))
    Opportunity.objects.filter(pk=old.pk).update(status="won",
                                                 closed_at=now + dt.timedelta(minutes=1))
    page = timeline.page(actor=actors["sales1"], customer_id=cust.pk, limit=20,
                         kinds={"opportunity", "opportunity_closed"})
    assert page.entries[0].title.startswith("Opportunity 老项目")
    assert page.entries[0].icon == "flag"
    seen, before = [], None
    while True:
        p = timeline.page(actor=actors["sales1"], customer_id=cust.pk, limit=20, before=before,
                          kinds={"opportunity", "opportunity_closed"})
        seen += [(e.title, e.at) for e in p.entries]
        if p.next_before is None:
            break
        before = p.next_before
    assert len(seen) == 27 == len(set(seen))  # 26 openings and one closing, each once
