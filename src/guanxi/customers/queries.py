"""Every read of customers and their details, scoped by the acting user and masked.

Pages, the API, search, autocomplete, exports and jobs all call these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from guanxi.core import reference
from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import NotFound, ValidationError
from guanxi.core.models import AuditRecord, CustomField, Tag
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.core.text import phone_search_digits, pinyin_keys, prefix_range
from guanxi.core.timeline import Entry
from guanxi.customers.models import (
    Address,
    Consent,
    Contact,
    ContactPoint,
    Customer,
    CustomValue,
)

SORTS = {
    "-id": Sort("id", True),
    "id": Sort("id", False),
    "name": Sort("name_pinyin", False),
    "-name": Sort("name_pinyin", True),
    "-updated": Sort("updated_at", True),
    "updated": Sort("updated_at", False),
}
LIST_COLUMNS = ("id", "kind", "name", "name_pinyin", "relation_kind", "owner_id", "team_id",
                "primary_phone", "primary_email", "province", "lifecycle_stage", "updated_at",
                "version")


@dataclass
class CustomerFilters:
    """The filters of the customer list; the page and the API accept the same names."""

    q: str = ""
    kind: str = ""
    relation_kind: str = ""
    owner: int | None = None
    team: int | None = None
    tag: str = ""
    province: str = ""
    source_type: str = ""
    source_channel: str = ""
    lifecycle_stage: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    custom: dict[str, str] = field(default_factory=dict)


def _scoped(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Customer.objects.all(), actor, action)


def _search_condition(term: str, *, exact_pii: bool = False) -> Q:
    """Index-friendly conditions for a search term (see docs/architecture.md, "Search").

    With ``exact_pii`` (roles that see personal data masked) phones and emails match only
    whole: a prefix search would let such a role read a masked number back digit by digit.
    """
    term = term.strip()
    if not term:
        return Q()
    digits = phone_search_digits(term)
    if digits:
        if exact_pii:
            phones = ContactPoint.objects.filter(kind__in=("mobile", "phone"),
                                                 normalized=digits)
        else:
            low, high = prefix_range(digits)
            phones = ContactPoint.objects.filter(
                kind__in=("mobile", "phone"), normalized__gte=low, normalized__lt=high)
        return Q(id__in=phones.values("customer_id"))
    lowered = term.lower()
    if "@" in lowered:
        if exact_pii:
            return Q(id__in=ContactPoint.objects.filter(kind="email", normalized=lowered)
                     .values("customer_id"))
        low, high = prefix_range(lowered)
        emails = ContactPoint.objects.filter(
            kind="email", normalized__gte=low, normalized__lt=high
        ).values("customer_id")
        return Q(primary_email__gte=low, primary_email__lt=high) | Q(id__in=emails)
    compact = "".join(lowered.split())
    if compact.isascii() and compact.isalnum():
        low, high = prefix_range(compact)
        cond = (Q(name_pinyin__gte=low, name_pinyin__lt=high)
                | Q(name_initials__gte=low, name_initials__lt=high))
        if exact_pii:
            return cond
        return cond | Q(primary_email__gte=low, primary_email__lt=high)
    # Chinese (or mixed) text: the name or the employer contains it, or a contact's name does.
    contacts = Contact.objects.filter(name__contains=term).values("organisation_id")
    return Q(name__contains=term) | Q(employer__contains=term) | Q(id__in=contacts)


def _apply_filters(qs: QuerySet, f: CustomerFilters, actor: Actor) -> QuerySet:
    if f.q:
        qs = qs.filter(_search_condition(f.q, exact_pii=not policy.sees_pii(actor)))
    for name in ("kind", "relation_kind", "province", "source_type", "source_channel",
                 "lifecycle_stage"):
        value = getattr(f, name)
        if value:
            qs = qs.filter(**{name: value})
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.tag:
        tag = str(f.tag)
        tags = Tag.objects.filter(Q(name=tag) | (Q(pk=int(tag)) if tag.isdigit() else Q()))
        qs = qs.filter(Exists(Customer.tags.through.objects.filter(
            customer_id=OuterRef("pk"), tag_id__in=tags.values("id"))))
    if f.created_from:
        qs = qs.filter(created_at__date__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created_at__date__lte=f.created_to)
    if f.custom:
        fields = {cf.code: cf for cf in CustomField.objects.filter(
            model="customers.customer", code__in=list(f.custom), filterable=True)}
        for code, raw in f.custom.items():
            cf = fields.get(code)
            if cf is None:
                raise ValidationError({f"cf_{code}": ["Unknown or unfilterable custom field."]})
            qs = qs.filter(Exists(CustomValue.objects.filter(
                customer_id=OuterRef("pk"), field=cf, **_custom_lookup(cf, raw))))
    return qs


def _custom_lookup(cf: CustomField, raw: str) -> dict[str, Any]:
    key = f"cf_{cf.code}"
    if cf.type == "number":
        try:
            return {"number": Decimal(raw)}
        except InvalidOperation as exc:
            raise ValidationError({key: ["Enter a number."]}) from exc
    if cf.type == "date":
        try:
            return {"date": dt.date.fromisoformat(raw)}
        except ValueError as exc:
            raise ValidationError({key: ["Enter a date as YYYY-MM-DD."]}) from exc
    if cf.type == "text":
        return {"text__contains": raw}
    return {"text": raw}


def customer_list(*, actor: Actor, filters: CustomerFilters | None = None, sort: str = "-id",
                  cursor: str | None = None, limit: int | None = None,
                  count: bool = True) -> Page[Customer]:
    """One page of the customers ``actor`` may see, masked, newest first by default."""
    if sort not in SORTS:
        raise ValidationError({"sort": [f"Choose one of: {', '.join(SORTS)}."]})
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 200))
    qs = _apply_filters(_scoped(actor), filters or CustomerFilters(), actor).only(*LIST_COLUMNS)
    page = paginate(qs, SORTS[sort], cursor=cursor, limit=limit,
                    count_limit=settings.LIST_COUNT_LIMIT if count else None)
    policy.mask(actor, page.items)
    return page


def customer_search(*, actor: Actor, term: str, limit: int = 20) -> list[Customer]:
    """Quick search (the search box and autocomplete): best matches first, masked."""
    term = (term or "").strip()
    if not term:
        return []
    exact_pii = not policy.sees_pii(actor)
    compact = "".join(term.lower().split())
    if compact.isascii() and compact.isalnum() and not phone_search_digits(term):
        # One query per index (initials, pinyin, email), each stopping at ``limit`` rows in
        # its index's order: an OR of the three ordered by pinyin would walk the whole
        # pinyin index of the team to find names whose initials match.
        base = _scoped(actor).only(*LIST_COLUMNS, "name_initials")
        low, high = prefix_range(compact)
        branches = [
            base.filter(name_initials__gte=low, name_initials__lt=high)
            .order_by("name_initials", "id"),
            base.filter(name_pinyin__gte=low, name_pinyin__lt=high).order_by("name_pinyin", "id"),
        ]
        if not exact_pii:
            branches.append(base.filter(primary_email__gte=low, primary_email__lt=high)
                            .order_by("primary_email", "id"))
        found: dict[int, Customer] = {}
        for qs in branches:
            for c in qs[:limit]:
                found.setdefault(c.pk, c)
        # Exact initials or pinyin first ("zs" ranks 张三 before 张山峰), then shorter names.
        rows = sorted(found.values(), key=lambda c: (
            c.name_initials != compact and c.name_pinyin != compact, len(c.name_pinyin),
            c.name_pinyin, c.pk))[:limit]
    else:
        qs = _scoped(actor).filter(_search_condition(term, exact_pii=exact_pii))
        rows = list(qs.only(*LIST_COLUMNS).order_by("-id")[:limit])
    return policy.mask(actor, rows)


def customer_choices(*, actor: Actor, term: str, limit: int = 20) -> list[tuple[int, str]]:
    """(id, label) pairs for choice widgets; never offers a customer outside the scope."""
    return [(c.pk, c.name) for c in customer_search(actor=actor, term=term, limit=limit)]


CUSTOMER = "customers.customer"


def customer_get(*, actor: Actor, customer_id: int) -> Customer:
    """One customer with its details prefetched, masked; NotFound outside the scope."""
    obj = _visible_row(actor, customer_id, _scoped(actor).select_related("owner", "team"))
    details: list[Any] = [
        "tags",
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by(
            "kind", "-is_primary", "id")),
        "addresses",
    ]
    # Only organisations have contact persons (customers/services.py keeps it so).
    details.append("contacts" if obj.kind == "organisation"
                   else Prefetch("contacts", queryset=Contact.objects.none()))
    values = (CustomValue.objects.select_related("field")
              if reference.read("custom_fields")["custom_fields"]  # no fields, no values
              else CustomValue.objects.none())
    details.append(Prefetch("custom_values", queryset=values))
    prefetch_related_objects([obj], *details)
    if not policy.sees_pii(actor):
        policy.mask(actor, list(obj.contact_points.all()))
        policy.mask(actor, list(obj.addresses.all()))
        policy.mask(actor, list(obj.contacts.all()))
    return obj


def customer_brief(*, actor: Actor, customer_id: int) -> Customer:
    """The customer's own row, masked, without its details (for the panels of other apps
    that the customer page loads); NotFound outside the scope."""
    return _visible_row(actor, customer_id, _scoped(actor))


def _visible_row(actor: Actor, customer_id: int, scoped: QuerySet) -> Customer:
    try:
        obj = scoped.get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound("customer not found") from None
    actor.saw(CUSTOMER, obj.pk)
    if not policy.sees_pii(actor):
        policy.mask(actor, obj)
    return obj


def require_visible(*, actor: Actor, customer_id: int) -> None:
    """NotFound unless ``actor`` may see the customer (one indexed query; the reads of a
    customer's details check this before returning them). A customer the actor was just shown
    (``customer_get``, an earlier check in the same request) needs no query."""
    if actor.has_seen(CUSTOMER, customer_id):
        return
    try:
        visible = _scoped(actor).filter(pk=customer_id).exists()
    except (ValueError, TypeError):
        visible = False
    if not visible:
        raise NotFound("customer not found")
    actor.saw(CUSTOMER, customer_id)


def customer_for_write(*, actor: Actor, customer_id: int, action: str = "change") -> Customer:
    """The unmasked row, locked, for a service. NotFound outside the view scope,
    PermissionDenied outside the ``action`` scope."""
    try:
        obj = Customer.objects.select_for_update().get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound("customer not found") from None
    policy.require(actor, action, obj)
    return obj


def customer_current(*, actor: Actor, customer_id: int) -> dict[str, Any]:
    """The current state shown with a conflict (masked like any read)."""
    obj = customer_get(actor=actor, customer_id=customer_id)
    from guanxi.core.audit import snapshot

    data = snapshot(obj)
    data["version"] = obj.version
    return data


def current_consents(*, actor: Actor, customer_id: int) -> list[Consent]:
    """The consent in force per (channel, purpose): the newest record of each."""
    require_visible(actor=actor, customer_id=customer_id)
    seen: set[tuple[str, str]] = set()
    out = []
    for c in Consent.objects.filter(customer_id=customer_id).order_by("-at", "-id"):
        key = (c.channel, c.purpose)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def consent_history(*, actor: Actor, customer_id: int) -> list[Consent]:
    require_visible(actor=actor, customer_id=customer_id)
    return list(Consent.objects.filter(customer_id=customer_id).order_by("-at", "-id"))


def may_contact(*, customer_id: int, channel: str, purpose: str) -> bool:
    """Whether the customer's consent in force allows ``purpose`` on ``channel`` (a specific
    channel's decision wins over "any channel"). No record means no consent."""
    rows = Consent.objects.filter(customer_id=customer_id, purpose=purpose,
                                  channel__in=[channel, "any"]).order_by("-at", "-id")
    specific = next((r for r in rows if r.channel == channel), None)
    if specific is not None:
        return specific.granted
    general = next((r for r in rows if r.channel == "any"), None)
    return bool(general and general.granted)


def customer_timeline(*, actor: Actor, customer_id: int, limit: int = 100,
                      before_id: int | None = None,
                      before: dt.datetime | None = None) -> list[AuditRecord]:
    """The customer's history, newest first: every audited change to it and its details
    (older than the record ``before_id`` or the instant ``before``, when given)."""
    require_visible(actor=actor, customer_id=customer_id)
    qs = AuditRecord.objects.filter(customer_id=customer_id)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    if before is not None:
        qs = qs.filter(at__lt=before)
    rows = list(qs.select_related("actor").order_by("-at", "-id")[:limit])
    if not policy.sees_pii(actor):
        for row in rows:
            row.changes = _mask_changes(row.changes)
            if row.model in _MASKED_LABELS:
                row.object_repr = str(_MASKED_LABELS[row.model]())
    return rows


def _masked_label(model: type) -> Any:
    return lambda: model._meta.verbose_name


# Child objects whose label (``object_repr``) is personal data: a contact point's value, an
# address's street, a contact's name and phone. Masked roles see the kind of object instead.
_MASKED_LABELS = {"customers.contactpoint": _masked_label(ContactPoint),
                  "customers.address": _masked_label(Address),
                  "customers.contact": _masked_label(Contact)}


_PII_CHANGE_KEYS = {"primary_phone": "phone", "primary_email": "email", "id_number": "id",
                    "value": "handle", "phone": "phone", "email": "email", "street": "street",
                    "birth_date": "date"}


def _point_kind(value: str) -> str:
    """How to mask a contact point's value when only the value is known."""
    if "@" in value:
        return "email"
    return "phone" if phone_search_digits(value) else "handle"


def _mask_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    from guanxi.core.access import mask_value
    from guanxi.customers.models import _CP_MASK

    point_kind = next((v for v in changes.get("kind", []) if v in _CP_MASK), None)
    out = {}
    for key, pair in changes.items():
        if key == "contact_points":
            out[key] = [[mask_value(str(x), _point_kind(str(x))) for x in v]
                        if isinstance(v, list) else v for v in pair]
            continue
        kind = _PII_CHANGE_KEYS.get(key)
        if key == "value" and point_kind:
            kind = _CP_MASK[point_kind]
        if kind == "date":
            out[key] = [None if v else v for v in pair]
            continue
        out[key] = [mask_value(str(v), kind) if (kind and v) else v for v in pair] if kind \
            else pair
    return out


def contacts_of(*, actor: Actor, customer_id: int) -> list[Contact]:
    obj = customer_get(actor=actor, customer_id=customer_id)
    return list(obj.contacts.all())


def contact_get(*, actor: Actor, contact_id: int) -> Contact:
    try:
        obj = policy.scope(Contact.objects.select_related("organisation"), actor).get(
            pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise NotFound("contact not found") from None
    return policy.mask(actor, obj)


def contact_list(*, actor: Actor, q: str = "", cursor: str | None = None,
                 limit: int = 50) -> Page[Contact]:
    qs = policy.scope(Contact.objects.select_related("organisation"), actor)
    if q:
        keys = pinyin_keys(q)[0]
        qs = qs.filter(Q(name__contains=q) | (Q(name_pinyin__startswith=keys) if keys else Q()))
    page = paginate(qs, Sort("id", True), cursor=cursor, limit=limit)
    policy.mask(actor, page.items)
    return page


def contact_point_get(*, actor: Actor, point_id: int) -> ContactPoint:
    try:
        obj = policy.scope(ContactPoint.objects.all(), actor).get(pk=point_id)
    except (ContactPoint.DoesNotExist, ValueError, TypeError):
        raise NotFound("contact point not found") from None
    return policy.mask(actor, obj)


def address_get(*, actor: Actor, address_id: int) -> Address:
    try:
        obj = policy.scope(Address.objects.all(), actor).get(pk=address_id)
    except (Address.DoesNotExist, ValueError, TypeError):
        raise NotFound("address not found") from None
    return policy.mask(actor, obj)


def tag_list() -> list[Tag]:
    """Tags are shared vocabulary, visible to every signed-in user."""
    return reference.read("tags")["tags"]


def custom_fields(model: str = "customers.customer", cached: list[CustomField] | None = None
                  ) -> list[CustomField]:
    rows = reference.read("custom_fields")["custom_fields"] if cached is None else cached
    return [cf for cf in rows if cf.model == model]


def list_reference(*, actor: Actor) -> dict[str, Any]:
    """What the customer list's filters offer (tags, teams, filterable custom fields, the
    actor's saved views), read in one cache round trip (``guanxi.core.reference``)."""
    from guanxi.core.queries import saved_views

    ref = reference.read("tags", "teams", "custom_fields", "saved_views")
    return {
        "tags": ref["tags"], "teams": ref["teams"],
        "custom_fields": [cf for cf in custom_fields(cached=ref["custom_fields"])
                          if cf.filterable],
        "saved_views": saved_views(actor=actor, list_name="customers",
                                   cached=ref["saved_views"]),
    }


EXPORT_COLUMNS = ("id", "kind", "name", "relation_kind", "owner", "team", "primary_phone",
                  "primary_email", "province", "lifecycle_stage", "source_type",
                  "source_channel", "industry", "employer", "job_title", "created_at")


def customer_export_rows(*, actor: Actor, filters: CustomerFilters | None = None,
                         batch: int = 2000) -> Iterator[list[Any]]:
    """Rows for CSV/XLSX export: within the actor's *export* scope (and view scope), masked,
    streamed in keyset batches."""
    qs = _apply_filters(policy.scope(_scoped(actor), actor, "export"),
                        filters or CustomerFilters(), actor)
    qs = qs.select_related("owner", "team")
    last = None
    while True:
        chunk_qs = qs.order_by("id")
        if last is not None:
            chunk_qs = chunk_qs.filter(id__gt=last)
        chunk = list(chunk_qs[:batch])
        if not chunk:
            return
        policy.mask(actor, chunk)
        for c in chunk:
            yield [c.pk, c.kind, c.name, c.relation_kind, c.owner.username if c.owner else "",
                   c.team.name if c.team else "", c.primary_phone, c.primary_email, c.province,
                   c.lifecycle_stage, c.source_type, c.source_channel, c.industry, c.employer,
                   c.job_title, c.created_at.isoformat()]
        last = chunk[-1].pk


def demo_customer_count() -> int:
    """How many customers exist (the demo loads only into an empty database)."""
    return Customer.objects.count()




def _display(field, value: Any, names: dict[tuple[str, Any], str]) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None or field is None:
        return value
    if field.is_relation and field.many_to_one:
        return names.get((field.related_model._meta.label_lower, value), value)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        from django.utils.translation import gettext

        return gettext("yes") if value else gettext("no")
    return value


def timeline_rows(records: list[AuditRecord]) -> list[Entry]:
    """Audit records as readable rows: field labels, choice labels, people's names."""
    from django.apps import apps
    from django.utils.translation import gettext

    from guanxi.core.models import User

    fields_of: dict[str, dict[str, Any]] = {}
    user_ids, team_ids = set(), set()
    for r in records:
        try:
            model = apps.get_model(r.model)
        except LookupError:
            continue
        fields_of[r.model] = {f.name: f for f in model._meta.concrete_fields}
        for key, pair in r.changes.items():
            if key == "owner":
                user_ids.update(v for v in pair if v)
            if key == "team":
                team_ids.update(v for v in pair if v)
    names: dict[tuple[str, Any], str] = {}
    for u in User.objects.filter(pk__in=user_ids):
        names[("core.user", u.pk)] = str(u)
    if team_ids:  # teams are few and cached (core/reference.py)
        for t in reference.read("teams")["teams"]:
            names[("core.team", t.pk)] = str(t)
    verbs = {"create": gettext("created"), "update": gettext("changed"),
             "delete": gettext("removed")}
    out = []
    for r in records:
        fields = fields_of.get(r.model, {})
        rows = []
        for key, (old, new) in r.changes.items():
            field = fields.get(key)
            if key in ("name_pinyin", "name_initials", "version", "updated_at"):
                continue
            if field is not None:
                label = str(field.verbose_name)
            elif key.startswith("cf_"):
                label = key[3:]
            else:
                label = {"tags": gettext("tags"),
                         "contact_points": gettext("contact points")}.get(key, key)
            rows.append((label, _display(field, old, names), _display(field, new, names)))
        icon = {"create": "plus", "update": "pencil", "delete": "trash"}.get(r.action, "point")
        out.append(Entry(at=r.at, kind="change", title=f"{verbs.get(r.action, r.action)} "
                         f"{r.object_repr}", actor=r.actor_label, channel=r.channel, icon=icon,
                         changes=rows))
    return out


def _audit_provider(actor: Actor, customer_id: int, limit: int,
                    before: dt.datetime | None) -> list[Entry]:
    return timeline_rows(customer_timeline(actor=actor, customer_id=customer_id, limit=limit,
                                           before=before))
