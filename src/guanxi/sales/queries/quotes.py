"""Reads of quotes (报价单), scoped by the acting user: pages, API, PDF and services all read
through these functions, so a quote outside the actor's scope is NotFound on every path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import NotFound, ValidationError
from guanxi.core.models import Grant, User
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.sales.models import Opportunity, Order, Quote, QuoteLine, QuoteStatus

#: Newest or oldest first (the number and the issue date follow the id).
SORTS = {
    "-id": Sort("id", True),
    "id": Sort("id", False),
}


@dataclass
class QuoteFilters:
    """The filters of the quote list; the page and the API accept the same names."""

    q: str = ""
    status: str = ""
    customer: int | None = None
    owner: int | None = None
    team: int | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    awaiting_my_approval: bool = False


def _scoped(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Quote.objects.all(), actor, action)


def _apply_filters(qs: QuerySet, actor: Actor, f: QuoteFilters) -> QuerySet:
    term = f.q.strip()
    if term:
        qs = qs.filter(Q(number__istartswith=term) | Q(customer__name__contains=term))
    if f.status:
        if f.status not in QuoteStatus.values:
            raise ValidationError({"status": [_("Choose one of: %(choices)s.") % {
                "choices": ", ".join(QuoteStatus.values)}]})
        qs = qs.filter(status=f.status)
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.issued_from:
        qs = qs.filter(issued_on__gte=f.issued_from)
    if f.issued_to:
        qs = qs.filter(issued_on__lte=f.issued_to)
    if f.awaiting_my_approval:
        qs = policy.scope(qs, actor, "approve").filter(status=QuoteStatus.PENDING).exclude(
            owner_id=actor.user.pk)
    return qs


def quote_list(*, actor: Actor, filters: QuoteFilters | None = None, sort: str = "-id",
               cursor: str | None = None, limit: int | None = None) -> Page[Quote]:
    """One page of the quotes ``actor`` may see, newest first by default (keyset pages)."""
    if sort not in SORTS:
        raise ValidationError({"sort": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(SORTS)}]})
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 200))
    qs = _apply_filters(_scoped(actor), actor, filters or QuoteFilters())
    qs = qs.select_related("customer", "owner")
    return paginate(qs, SORTS[sort], cursor=cursor, limit=limit,
                    count_limit=settings.LIST_COUNT_LIMIT)


def quote_get(*, actor: Actor, quote_id: int) -> Quote:
    """One quote with its lines, customer and people; NotFound outside the view scope."""
    try:
        return (_scoped(actor)
                .select_related("customer", "owner", "team", "price_list", "opportunity",
                                "approved_by")
                .prefetch_related(Prefetch("lines", queryset=QuoteLine.objects.select_related(
                    "product").order_by("position", "id")))
                .get(pk=quote_id))
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("quote not found") from None


def quote_for_write(*, actor: Actor, quote_id: int, action: str = "change") -> Quote:
    """The row, locked, for a service: NotFound outside the view scope, PermissionDenied
    outside the ``action`` scope."""
    try:
        obj = Quote.objects.select_for_update().get(pk=quote_id)
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("quote not found") from None
    policy.require(actor, action, obj)
    return obj


def quote_lines(*, quote: Quote) -> list[QuoteLine]:
    """The lines of a quote already read through the policy, in their order."""
    return list(QuoteLine.objects.filter(quote_id=quote.pk).order_by("position", "id"))


def quote_orders(*, actor: Actor, quote: Quote) -> list[Order]:
    """The orders made from a quote that the actor may see."""
    return list(policy.scope(Order.objects.filter(quote_id=quote.pk), actor).order_by("id"))


def quote_number_taken(*, number: str) -> bool:
    return Quote.objects.filter(number=number).exists()


def quote_current(*, actor: Actor, quote_id: int) -> dict[str, Any]:
    """The current state shown with a conflict."""
    from guanxi.core.audit import snapshot

    obj = quote_get(actor=actor, quote_id=quote_id)
    data = snapshot(obj)
    data["version"] = obj.version
    return data


def opportunity_for_quote(*, actor: Actor, opportunity_id: int) -> Opportunity:
    """An opportunity the actor may see (a quote may be made from it)."""
    try:
        return policy.scope(Opportunity.objects.all(), actor).get(pk=opportunity_id)
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("opportunity not found") from None


def opportunity_choices(*, actor: Actor, customer_id: int) -> list[Opportunity]:
    """The customer's open opportunities the actor may see."""
    return list(policy.scope(Opportunity.objects.filter(customer_id=customer_id,
                                                        status="open"), actor)
                .order_by("-id")[:50])


def approver_ids(*, quote: Quote) -> list[int]:
    """Active users whose role grants ``approve`` on quotes with a scope that reaches this
    quote, less its owner (nobody approves their own discount)."""
    grants = (Grant.objects.filter(model="sales.quote", action="approve")
              .exclude(scope="none").values_list("role_id", "scope"))
    reach = Q(pk__in=[])
    for role_id, scope in grants:
        if scope == "all":
            reach |= Q(role_id=role_id)
        elif scope == "team" and quote.team_id is not None:
            reach |= Q(role_id=role_id, team_id=quote.team_id)
        # "own" (or team without a team) reaches only the owner, who may not approve.
    return list(User.objects.filter(reach, is_active=True).exclude(pk=quote.owner_id)
                .exclude(username="system").order_by("id").values_list("id", flat=True))
