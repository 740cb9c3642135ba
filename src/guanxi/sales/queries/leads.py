"""Reads of leads, scoped by the acting user and masked."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import NotFound
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.core.text import phone_search_digits, pinyin_keys
from guanxi.sales.models import AssignmentRule, Lead


@dataclass
class LeadFilters:
    q: str = ""
    status: str = ""
    source: str = ""
    owner: int | None = None


def _scoped(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Lead.objects.all(), actor, action)


def lead_list(*, actor: Actor, filters: LeadFilters | None = None, cursor: str | None = None,
              limit: int | None = None) -> Page[Lead]:
    f = filters or LeadFilters()
    qs = _scoped(actor).select_related("owner")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.q:
        digits = phone_search_digits(f.q)
        if digits:
            qs = qs.filter(phone_digits__startswith=digits)
        else:
            qs = qs.filter(Q(name__contains=f.q) | Q(company__contains=f.q)
                           | Q(email__startswith=f.q.lower()))
    page = paginate(qs, Sort("id", True), cursor=cursor,
                    limit=max(1, min(limit or settings.LIST_PAGE_SIZE, 200)),
                    count_limit=settings.LIST_COUNT_LIMIT)
    policy.mask(actor, page.items)
    return page


def lead_get(*, actor: Actor, lead_id: int) -> Lead:
    try:
        obj = _scoped(actor).select_related("owner", "team", "customer", "duplicate_of").get(
            pk=lead_id)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise NotFound("lead not found") from None
    return policy.mask(actor, obj)


def lead_for_write(*, actor: Actor, lead_id: int, action: str = "change") -> Lead:
    try:
        obj = Lead.objects.select_for_update().get(pk=lead_id)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise NotFound("lead not found") from None
    policy.require(actor, action, obj)
    return obj


def duplicate_candidates(*, phone_digits: str, email: str, name: str) -> dict:
    """Existing customers and open leads that look like the same person (by phone, email,
    or exact name); used when a lead arrives. Not scoped: the check must see the whole
    database to avoid two reps courting one customer; only ids and names are returned."""
    from guanxi.customers.models import ContactPoint, Customer

    customer_ids: set[int] = set()
    if phone_digits:
        customer_ids |= set(ContactPoint.objects.filter(
            kind__in=("mobile", "phone"), normalized=phone_digits).values_list(
            "customer_id", flat=True)[:5])
    if email:
        customer_ids |= set(ContactPoint.objects.filter(
            kind="email", normalized=email.lower()).values_list("customer_id", flat=True)[:5])
    if not customer_ids and name:
        full, _ = pinyin_keys(name)
        customer_ids |= set(Customer.objects.filter(name=name, name_pinyin=full).values_list(
            "id", flat=True)[:5])
    lead_q = Q()
    if phone_digits:
        lead_q |= Q(phone_digits=phone_digits)
    if email:
        lead_q |= Q(email=email.lower())
    leads = list(Lead.objects.filter(lead_q, status__in=("new", "qualified"))
                 .values_list("id", flat=True)[:5]) if lead_q else []
    return {"customer_ids": sorted(customer_ids), "lead_ids": leads}


def assignment_rules() -> list[AssignmentRule]:
    return list(AssignmentRule.objects.select_related("team"))


def team_members_for_assignment(team_id: int) -> list[int]:
    """Active people in a team who may own leads, in a stable order (round robin)."""
    from guanxi.core.models import Grant, User

    roles = Grant.objects.filter(model="sales.lead", action="add").exclude(
        scope="none").values("role_id")
    return list(User.objects.filter(team_id=team_id, is_active=True, role_id__in=roles)
                .order_by("id").values_list("id", flat=True))
