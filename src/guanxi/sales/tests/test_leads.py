"""Leads: capture, duplicate check, round-robin assignment, conversion in one step."""

from __future__ import annotations

import pytest

from guanxi.core.exceptions import Conflict, NotFound, ValidationError
from guanxi.core.models import AuditRecord
from guanxi.customers.models import Consent, Customer
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import AssignmentRule, Lead, Opportunity
from guanxi.sales.services import leads as services

pytestmark = pytest.mark.django_db


def test_capture_needs_a_way_to_reach_them(actors):
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=actors["sales1"], data={"name": "王五"})
    assert "phone" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.lead_create(actor=actors["sales1"], data={"name": "王五", "phone": "123"})
    assert "phone" in exc.value.message_dict
    lead = services.lead_create(actor=actors["sales1"], data={"name": "王五",
                                                              "phone": "139-0000-1111"})
    assert lead.phone == "139 0000 1111" and lead.owner_id == actors["sales1"].user.pk
    assert AuditRecord.objects.filter(model="sales.lead", object_id=str(lead.pk)).exists()


def test_duplicate_of_existing_customer_is_flagged(actors):
    zs = customer(actors["sales2"], "张三", phone="13812345678")
    lead = services.lead_create(actor=actors["sales1"], data={
        "name": "张三", "phone": "+86 138 1234 5678"})
    assert lead.duplicate_of_id == zs.pk


def test_round_robin_within_team(system_actor, users):
    AssignmentRule.objects.create(team=users["sales1"].team, province="上海市", position=1)
    AssignmentRule.objects.create(team=users["sales2"].team, position=2)
    owners = [services.lead_create(actor=system_actor, data={
        "name": f"L{i}", "phone": f"1390000{i:04d}", "province": "上海市",
        "source": "web_form"}).owner_id for i in range(4)]
    east = {users["sales1"].pk, users["sales1b"].pk, users["manager"].pk}
    assert set(owners) <= east and len(set(owners)) >= 2
    other = services.lead_create(actor=system_actor, data={"name": "北京", "phone":
                                                           "13900009999", "province": "北京市"})
    assert other.team_id == users["sales2"].team_id


def test_convert_all_or_nothing(actors, users):
    lead = services.lead_create(actor=actors["sales1"], consent=True,
                                consent_evidence="web form, box ticked",
                                data={"name": "李雷", "company": "华信科技",
                                      "phone": "13911112222", "email": "li@hx.cn",
                                      "province": "江苏省", "source": "web_form"})
    done = services.lead_convert(actor=actors["sales1"], lead_id=lead.pk, version=1,
                                 opportunity={"amount": "50000"})
    c = Customer.objects.get(pk=done.customer_id)
    assert c.kind == "organisation" and c.name == "华信科技"
    assert c.contacts.get().name == "李雷"
    assert c.primary_phone == "139 1111 2222" and c.province == "江苏省"
    opp = Opportunity.objects.get(pk=done.opportunity_id)
    assert opp.customer_id == c.pk and opp.amount == 50000
    assert Consent.objects.get(customer=c).granted
    assert Lead.objects.get(pk=lead.pk).status == "converted"
    with pytest.raises(ValidationError):
        services.lead_convert(actor=actors["sales1"], lead_id=lead.pk, version=2)


def test_failed_conversion_leaves_nothing(actors):
    lead = services.lead_create(actor=actors["sales1"], data={"name": "韩梅梅",
                                                              "phone": "13922223333"})
    before = Customer.objects.count()
    with pytest.raises(ValidationError):
        services.lead_convert(actor=actors["sales1"], lead_id=lead.pk, version=1,
                              opportunity={"amount": "-5"})
    assert Customer.objects.count() == before
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_lose_needs_reason_and_versions(actors):
    lead = services.lead_create(actor=actors["sales1"], data={"name": "X", "phone":
                                                              "13933334444"})
    with pytest.raises(ValidationError) as exc:
        services.lead_lose(actor=actors["sales1"], lead_id=lead.pk, version=1, reason=" ")
    assert "lost_reason" in exc.value.message_dict
    services.lead_qualify(actor=actors["sales1"], lead_id=lead.pk, version=1)
    with pytest.raises(Conflict):
        services.lead_lose(actor=actors["sales1"], lead_id=lead.pk, version=1, reason="预算")
    lost = services.lead_lose(actor=actors["sales1"], lead_id=lead.pk, version=2,
                              reason="预算不足")
    assert lost.status == "lost" and lost.lost_reason == "预算不足"


def test_other_team_cannot_touch(actors):
    lead = services.lead_create(actor=actors["sales1"], data={"name": "X", "phone":
                                                              "13944445555"})
    with pytest.raises(NotFound):
        services.lead_qualify(actor=actors["sales2"], lead_id=lead.pk, version=1)
