"""Customer services: validation, audit, events, versions, rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.models import AuditRecord, CustomField
from guanxi.customers import services
from guanxi.customers.models import ContactPoint, Customer
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_sets_owner_team_pinyin_and_audits(actors, users, events):
    c = services.customer_create(actor=actors["sales1"], data={"name": " 张三 "})
    assert c.name == "张三"
    assert (c.name_pinyin, c.name_initials) == ("zhangsan", "zs")
    assert c.owner_id == users["sales1"].pk and c.team_id == users["sales1"].team_id
    rec = AuditRecord.objects.get(model="customers.customer", object_id=str(c.pk))
    assert rec.action == "create" and rec.channel == "web" and rec.actor_label == "sales1"
    assert rec.changes["name"] == [None, "张三"]
    assert "gender" not in rec.changes  # empty values are not listed as changes
    assert ("customers.customer_created", {"customer_id": c.pk,
                                           "actor_id": users["sales1"].pk}) in events


def test_update_records_old_and_new_value_and_bumps_version(actors, events):
    c = customer(actors["sales1"], "张三")
    updated = services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=1,
                                       changes={"name": "张三丰", "occupation": "道士"})
    assert updated.version == 2
    rec = AuditRecord.objects.get(model="customers.customer", object_id=str(c.pk),
                                 action="update")
    assert rec.changes["name"] == ["张三", "张三丰"]
    assert rec.changes["occupation"] == [None, "道士"]
    assert Customer.objects.get(pk=c.pk).name_initials == "zsf"
    assert any(n == "customers.customer_updated" for n, _ in events)


def test_stale_version_is_a_conflict_with_current_state(actors):
    c = customer(actors["sales1"], "张三")
    services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=1,
                             changes={"occupation": "教师"})
    with pytest.raises(Conflict) as exc:
        services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=1,
                                 changes={"occupation": "医生"})
    assert exc.value.current_version == 2
    assert exc.value.current["occupation"] == "教师"
    assert Customer.objects.get(pk=c.pk).occupation == "教师"


def test_validation_errors_name_the_field(actors):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=actors["sales1"], data={"name": "", "gender": "x"})
    assert set(exc.value.message_dict) >= {"name", "gender"}
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=actors["sales1"], data={"name": "A", "bogus": 1})
    assert "bogus" in exc.value.message_dict


def test_rolled_back_service_leaves_no_audit_and_no_event(actors, events):
    before = AuditRecord.objects.count()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.customer_create(actor=actors["sales1"], data={"name": "回滚"})
            raise RuntimeError("boom")
    assert AuditRecord.objects.count() == before
    assert not Customer.objects.filter(name="回滚").exists()
    assert events == []


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678",
                                 "0086 13812345678", "(138) 1234-5678", "+8613812345678"])
def test_phone_in_any_format_is_normalised(actors, raw):
    c = customer(actors["sales1"], "张三", phone=raw)
    point = ContactPoint.objects.get(customer=c)
    assert point.normalized == "13812345678"
    assert point.value == "138 1234 5678"
    assert c.primary_phone == "138 1234 5678"


def test_bad_phone_and_email_are_field_errors(actors):
    c = customer(actors["sales1"], "张三")
    with pytest.raises(ValidationError) as exc:
        services.contact_point_add(actor=actors["sales1"], customer_id=c.pk, kind="mobile",
                                   value="12345")
    assert "value" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.contact_point_add(actor=actors["sales1"], customer_id=c.pk, kind="email",
                                   value="not-an-email")
    assert not ContactPoint.objects.filter(customer=c).exists()


def test_duplicate_contact_point_refused(actors):
    c = customer(actors["sales1"], "张三", phone="13812345678")
    with pytest.raises(ValidationError):
        services.contact_point_add(actor=actors["sales1"], customer_id=c.pk, kind="mobile",
                                   value="+86 138 1234 5678")


def test_sales_cannot_change_owner_or_teammates_customer(actors, users):
    c = customer(actors["sales1"], "张三")
    with pytest.raises(PermissionDenied):
        services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=1,
                                 changes={"owner": users["sales1b"].pk})
    with pytest.raises(PermissionDenied):
        services.customer_update(actor=actors["sales1b"], customer_id=c.pk, version=1,
                                 changes={"occupation": "x"})
    with pytest.raises(NotFound):
        services.customer_update(actor=actors["sales2"], customer_id=c.pk, version=1,
                                 changes={"occupation": "x"})


def test_manager_reassigns_within_team_but_not_out_of_scope(actors, users):
    c = customer(actors["sales1"], "张三")
    n = services.customers_reassign(actor=actors["manager"], customer_ids=[c.pk],
                                    owner_id=users["sales1b"].pk)
    assert n == 1
    c.refresh_from_db()
    assert c.owner_id == users["sales1b"].pk
    # Giving it to another team's rep would take it out of the manager's scope.
    with pytest.raises(PermissionDenied):
        services.customers_reassign(actor=actors["manager"], customer_ids=[c.pk],
                                    owner_id=users["sales2"].pk)
    c.refresh_from_db()
    assert c.owner_id == users["sales1b"].pk


def test_create_outside_add_scope_is_refused(actors, users):
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=actors["sales1"],
                                 data={"name": "X", "owner": users["sales2"].pk})
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=actors["analyst"], data={"name": "X"})


def test_custom_fields_validated_and_audited(actors, users):
    admin = actors["admin"]
    from guanxi.core import services as core_services

    core_services.custom_field_create(actor=admin, data={
        "code": "level", "label": "Level", "type": "choice", "choices": ["A", "B"]})
    core_services.custom_field_create(actor=admin, data={
        "code": "budget", "label": "Budget", "type": "number"})
    core_services.custom_field_create(actor=admin, data={
        "code": "hobbies", "label": "Hobbies", "type": "multi", "choices": ["tea", "golf"]})
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=actors["sales1"], data={"name": "X"},
                                 custom={"level": "Z", "budget": "lots"})
    assert set(exc.value.message_dict) == {"cf_level", "cf_budget"}
    c = services.customer_create(actor=actors["sales1"], data={"name": "X"},
                                 custom={"level": "A", "budget": "12.5",
                                         "hobbies": ["tea", "golf"]})
    rec = AuditRecord.objects.get(model="customers.customer", object_id=str(c.pk),
                                 action="create")
    assert rec.changes["cf_level"] == [None, "A"]
    assert rec.changes["cf_hobbies"] == [None, ["golf", "tea"]]
    services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=1, changes={},
                             custom={"level": "B"})
    rec = AuditRecord.objects.get(model="customers.customer", object_id=str(c.pk),
                                 action="update")
    assert rec.changes == {"cf_level": ["A", "B"]}
    assert CustomField.objects.count() == 3


def test_consent_newest_decision_is_in_force(actors):
    from guanxi.customers.queries import current_consents, may_contact

    c = customer(actors["sales1"], "张三")
    assert not may_contact(customer_id=c.pk, channel="sms", purpose="marketing")
    services.consent_record(actor=actors["sales1"], customer_id=c.pk, channel="any",
                            purpose="marketing", granted=True, source="web form")
    assert may_contact(customer_id=c.pk, channel="sms", purpose="marketing")
    services.consent_record(actor=actors["sales1"], customer_id=c.pk, channel="sms",
                            purpose="marketing", granted=False, source="退订 reply")
    assert not may_contact(customer_id=c.pk, channel="sms", purpose="marketing")
    assert may_contact(customer_id=c.pk, channel="email", purpose="marketing")
    current = current_consents(actor=actors["sales1"], customer_id=c.pk)
    assert {(k.channel, k.granted) for k in current} == {("any", True), ("sms", False)}


def test_delete_audits_last_values_and_keeps_record(actors):
    c = customer(actors["manager"], "张三", phone="13812345678")
    services.customer_delete(actor=actors["manager"], customer_id=c.pk, version=c.version)
    assert not Customer.objects.filter(pk=c.pk).exists()
    rec = AuditRecord.objects.get(object_id=str(c.pk), action="delete",
                                  model="customers.customer")
    assert rec.changes["name"] == ["张三", None]
    with pytest.raises(ValueError):
        rec.delete()
    with pytest.raises(ValueError):
        rec.save()


def test_bulk_create_validates_rows_and_audits(system_actor, users):
    ids = services.customer_bulk_create(actor=system_actor, records=[
        {"data": {"name": "李四", "owner": users["sales1"].pk}, "phones": ["139 0000 1111"],
         "tags": ["VIP"]},
        {"data": {"name": "Acme", "kind": "organisation", "owner": users["sales2"].pk},
         "contacts": [{"name": "王五", "phone": "13900002222"}]},
    ])
    assert len(ids) == 2
    assert AuditRecord.objects.filter(model="customers.customer",
                                      object_id__in=[str(i) for i in ids],
                                      action="create").count() == 2
    with pytest.raises(ValidationError) as exc:
        services.customer_bulk_create(actor=system_actor, records=[
            {"data": {"name": "ok", "owner": users["sales1"].pk}},
            {"data": {"name": "bad", "owner": users["sales1"].pk}, "phones": ["12"]}])
    assert any(k.startswith("row 1.") for k in exc.value.message_dict)


def test_an_organisation_with_contacts_stays_an_organisation(actors):
    from guanxi.customers.queries import customer_get

    org = customer(actors["sales1"], "Acme Trading", kind="organisation")
    services.contact_create(actor=actors["sales1"], customer_id=org.pk,
                            data={"name": "王五", "phone": "13900002222"})
    with pytest.raises(ValidationError) as exc:
        services.customer_update(actor=actors["sales1"], customer_id=org.pk,
                                 version=org.version, changes={"kind": "person"})
    assert "kind" in exc.value.message_dict
    assert Customer.objects.get(pk=org.pk).kind == "organisation"
    assert [c.name for c in customer_get(actor=actors["sales1"], customer_id=org.pk)
            .contacts.all()] == ["王五"]
    # Without contacts it may become a person.
    other = customer(actors["sales1"], "个体户", kind="organisation")
    services.customer_update(actor=actors["sales1"], customer_id=other.pk,
                             version=other.version, changes={"kind": "person"})
    assert Customer.objects.get(pk=other.pk).kind == "person"
