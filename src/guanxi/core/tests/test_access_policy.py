"""The access policy on its own: scopes, require (404 before 403), writable fields, masking,
inactive users, and no superuser short cut."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from guanxi.core import testing
from guanxi.core.access import Actor, mask_value, policy
from guanxi.core.exceptions import NotFound, PermissionDenied
from guanxi.core.models import Team, User
from guanxi.customers import services
from guanxi.customers.models import Address, Contact, ContactPoint, Customer
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def objs(actors):
    """mine (sales1, east), teammate's (sales1b, east), other team's (sales2, north)."""
    return {
        "mine": customer(actors["sales1"], "甲", phone="13812345678"),
        "teammate": customer(actors["sales1b"], "乙"),
        "other": customer(actors["sales2"], "丙"),
    }


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def scoped(actor: Actor, action: str = "view") -> set[str]:
    return names(policy.scope(Customer.objects.all(), actor, action))


# scope() -----------------------------------------------------------------------------------

def test_scope_none_own_team_all(actors, objs):
    assert scoped(actors["readonly"], "change") == set()  # no grant: none
    assert scoped(actors["sales1"], "change") == {"甲"}  # own
    assert scoped(actors["sales1"], "view") == {"甲", "乙"}  # team east
    assert scoped(actors["sales2"], "view") == {"丙"}  # team north
    assert scoped(actors["analyst"], "view") == {"甲", "乙", "丙"}  # all
    assert scoped(actors["manager"], "delete") == {"甲", "乙"}


def test_team_scope_without_a_team_falls_back_to_own(users, actors, objs):
    loner = testing.actor(testing.user("loner", "sales"))
    mine = customer(actors["admin"], "丁", owner=loner.user.pk)
    assert mine.team_id is None
    assert scoped(loner, "view") == {"丁"}
    assert policy.allows(loner, "view", mine)
    assert not policy.allows(loner, "view", objs["other"])


def test_a_user_without_a_role_sees_nothing(objs):
    nobody = testing.actor(User.objects.create(username="nobody", team=testing.team("east")))
    assert scoped(nobody) == set()
    assert not policy.can(nobody, Customer, "view")


def test_child_objects_follow_their_customer(actors, objs):
    visible = policy.scope(ContactPoint.objects.all(), actors["sales2"])
    assert not visible.exists()
    assert policy.scope(ContactPoint.objects.all(), actors["sales1b"]).count() == 1


def test_a_model_without_an_access_path_is_refused(actors):
    with pytest.raises(ImproperlyConfigured):
        policy.scope(Team.objects.all(), actors["admin"])


# require() and allows() ------------------------------------------------------------------

def test_require_invisible_is_not_found(actors, objs):
    with pytest.raises(NotFound):
        policy.require(actors["sales2"], "view", objs["mine"])
    with pytest.raises(NotFound):  # 404 wins over 403: the change is refused as "not found"
        policy.require(actors["sales2"], "change", objs["mine"])


def test_require_visible_without_the_action_is_permission_denied(actors, objs):
    with pytest.raises(PermissionDenied):
        policy.require(actors["sales1b"], "change", objs["mine"])
    with pytest.raises(PermissionDenied):
        policy.require(actors["analyst"], "delete", objs["other"])
    with pytest.raises(PermissionDenied):
        policy.require(actors["readonly"], "change", objs["mine"])


def test_require_allowed_passes(actors, objs):
    policy.require(actors["sales1"], "change", objs["mine"])
    policy.require(actors["manager"], "delete", objs["teammate"])
    policy.require(actors["service"], "change", objs["other"])
    policy.require(actors["analyst"], "view", objs["other"])


def test_allows_agrees_with_scope(actors, objs):
    for name, a in actors.items():
        for action in ("view", "add", "change", "delete", "export"):
            in_sql = scoped(a, action)
            in_python = {o.name for o in objs.values() if policy.allows(a, action, o)}
            assert in_sql == in_python, (name, action)


# writable_fields() -----------------------------------------------------------------------

def test_writable_fields_honour_read_only_fields(actors):
    sales = policy.writable_fields(actors["sales1"], Customer, "change")
    service = policy.writable_fields(actors["service"], Customer, "change")
    admin = policy.writable_fields(actors["admin"], Customer, "change")
    assert {"name", "notes", "id_number"} <= sales
    assert not {"owner", "team"} & sales
    assert not {"owner", "team", "kind"} & service and "name" in service
    assert {"owner", "team", "kind", "name"} <= admin
    assert not {"primary_phone", "version", "created_at"} & admin  # not editable
    assert policy.writable_fields(actors["readonly"], Customer, "change") == set()
    assert policy.writable_fields(actors["analyst"], Customer, "add") == set()


def test_read_only_field_is_refused_by_the_service(actors, users, objs):
    with pytest.raises(PermissionDenied):
        services.customer_update(actor=actors["sales1"], customer_id=objs["mine"].pk,
                                 version=objs["mine"].version,
                                 changes={"owner": users["sales1b"].pk})
    assert Customer.objects.get(pk=objs["mine"].pk).owner_id == users["sales1"].pk


# mask() ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "kind", "masked"), [
    ("13812345678", "phone", "138****5678"),
    ("138 1234 5678", "phone", "138****5678"),
    ("12345", "phone", "****"),
    ("zhangsan@example.com", "email", "z***@example.com"),
    ("nodomain", "email", "***"),
    ("110101199003071234", "id", "110***********1234"),
    ("1234567", "id", "****"),
    ("wxid_abc123", "handle", "w***"),
    ("中关村大街1号", "street", "中***"),
])
def test_mask_value(value, kind, masked):
    assert mask_value(value, kind) == masked


def test_mask_replaces_personal_data_on_a_customer(actors):
    c = customer(actors["sales1"], "张三", phone="13812345678", email="zhangsan@example.com",
                 id_number="110101199003071234", birth_date=dt.date(1990, 3, 7))
    c = Customer.objects.get(pk=c.pk)
    policy.mask(actors["analyst"], c)
    assert (c.primary_phone, c.primary_email) == ("138****5678", "z***@example.com")
    assert c.id_number == "110***********1234"
    assert c.birth_date is None
    assert c.name == "张三"


def test_mask_contact_points_by_kind(actors):
    c = customer(actors["sales1"], "张三", kind="organisation")
    for kind, value in [("mobile", "13812345678"), ("phone", "010 6234 5678"),
                        ("email", "zhangsan@example.com"), ("wechat", "wxid_abc123"),
                        ("qq", "12345678")]:
        services.contact_point_add(actor=actors["sales1"], customer_id=c.pk, kind=kind,
                                   value=value)
    services.address_add(actor=actors["sales1"], customer_id=c.pk,
                         data={"province": "北京市", "street": "中关村大街1号"})
    services.contact_create(actor=actors["sales1"], customer_id=c.pk,
                            data={"name": "李四", "phone": "13912345678",
                                  "email": "lisi@example.com"})
    points = policy.mask(actors["analyst"], list(ContactPoint.objects.filter(customer=c)))
    assert {p.kind: p.value for p in points} == {
        "mobile": "138****5678", "phone": "010****5678", "email": "z***@example.com",
        "wechat": "w***", "qq": "1***"}
    [address] = policy.mask(actors["analyst"], list(Address.objects.filter(customer=c)))
    assert (address.province, address.street) == ("北京市", "中***")
    contact = policy.mask(actors["readonly"], Contact.objects.get(organisation=c))
    assert (contact.name, contact.phone, contact.email) == (
        "李四", "139****5678", "l***@example.com")


def test_a_masked_instance_refuses_save(actors):
    c = customer(actors["sales1"], "张三", phone="13812345678")
    masked = policy.mask(actors["marketing"], Customer.objects.get(pk=c.pk))
    with pytest.raises(ValueError, match="masked"):
        masked.save()
    assert Customer.objects.get(pk=c.pk).primary_phone == "138 1234 5678"


def test_roles_with_the_personal_data_permission_see_it_unmasked(actors):
    c = customer(actors["sales1"], "张三", phone="13812345678")
    for name in ("sales1", "manager", "service", "admin"):
        shown = policy.mask(actors[name], Customer.objects.get(pk=c.pk))
        assert shown.primary_phone == "138 1234 5678", name
        shown.save()  # not marked read-only


# Inactive users and superusers -----------------------------------------------------------

def test_an_inactive_user_sees_nothing(users, objs):
    u = users["admin"]
    u.is_active = False
    u.save()
    inactive = testing.actor(u)
    assert scoped(inactive) == set()
    assert not policy.allows(inactive, "view", objs["mine"])
    assert not policy.sees_pii(inactive)
    with pytest.raises(NotFound):
        policy.require(inactive, "view", objs["mine"])


def test_no_superuser_short_cut(objs):
    boss = testing.user("boss", "sales", "north")
    boss.is_superuser = boss.is_staff = True
    boss.save()
    actor = testing.actor(boss)
    assert scoped(actor) == {"丙"}
    assert scoped(actor, "change") == set()
    with pytest.raises(NotFound):
        policy.require(actor, "view", objs["mine"])


def test_grants_are_read_once_then_cached(actors, objs, django_assert_num_queries):
    """Every role's grants come in one query, then from the cache (core/reference.py)."""
    from django.core.cache import cache

    cache.clear()
    a = testing.actor(actors["sales1"].user)
    with django_assert_num_queries(1):
        for action in ("view", "change", "export", "delete"):
            policy.scope_name(a, Customer, action)
    b = testing.actor(actors["sales2"].user)
    with django_assert_num_queries(0):
        assert policy.scope_name(b, Customer, "view") == "team"
