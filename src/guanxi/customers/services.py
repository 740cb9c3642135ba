"""Every write to customers and their details.

Each service: opens a transaction, loads the row through ``queries`` (locked), checks the
access policy, compares the version, validates (errors keyed by field), saves, re-checks that
the row stays inside the actor's scope, writes the audit record and emits an event on commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.access import Actor, policy
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.models import CustomField, Tag, User
from guanxi.core.services import assign, save_versioned, validate
from guanxi.core.text import PhoneError, format_phone, normalize_phone, pinyin_keys
from guanxi.customers import queries
from guanxi.customers.models import (
    Address,
    Consent,
    Contact,
    ContactPoint,
    Customer,
    CustomValue,
)

CUSTOMER_FIELDS = {
    "kind", "name", "relation_kind", "consumer_type", "owner", "team", "source_type",
    "source_channel", "source_cost", "gender", "birth_date", "id_number", "occupation",
    "income_band", "education", "marital_status", "family_size", "employer", "job_title",
    "interests", "purchase_motive", "personality", "lifestyle", "brand_attitude", "industry",
    "company_size", "relationship_type", "registration_number", "website", "notes",
    "purchase_intent", "intent_change_pct", "intent_from",
}
AUDIT_CUSTOMER = sorted(CUSTOMER_FIELDS | {"lifecycle_stage"})


def _custom_snapshot(customer: Customer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in CustomValue.objects.filter(customer=customer).select_related("field"):
        key = f"cf_{v.field.code}"
        if v.field.type == "multi":
            out.setdefault(key, []).append(v.text)
        else:
            out[key] = v.display()
    return {k: sorted(val) if isinstance(val, list) else val for k, val in out.items()}


def _snapshot(customer: Customer) -> dict[str, Any]:
    data = audit.snapshot(customer, AUDIT_CUSTOMER)
    data.update(_custom_snapshot(customer))
    return data


def _set_search_keys(customer: Customer) -> None:
    customer.name = (customer.name or "").strip()
    customer.name_pinyin, customer.name_initials = pinyin_keys(customer.name)


def _clean_custom(values: dict[str, Any], *, partial: bool) -> dict[CustomField, list[Any]]:
    """Validate custom field values; returns field → list of typed values (empty = clear)."""
    fields = {cf.code: cf for cf in CustomField.objects.filter(model="customers.customer")}
    errors: dict[str, list[str]] = {}
    out: dict[CustomField, list[Any]] = {}
    for code, raw in values.items():
        key = f"cf_{code}"
        cf = fields.get(code)
        if cf is None:
            errors[key] = ["Unknown custom field."]
            continue
        items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        if cf.type != "multi" and len(items) > 1:
            errors[key] = ["Give one value."]
            continue
        typed: list[Any] = []
        for item in items:
            try:
                typed.append(_typed_custom(cf, item))
            except ValueError as exc:
                errors.setdefault(key, []).append(str(exc))
        if cf.required and not typed:
            errors.setdefault(key, []).append("This field is required.")
        out[cf] = typed
    if not partial:
        for cf in fields.values():
            if cf.required and cf not in out:
                errors.setdefault(f"cf_{cf.code}", []).append("This field is required.")
    if errors:
        raise ValidationError(errors)
    return out


def _typed_custom(cf: CustomField, item: Any) -> Any:
    if cf.type == "number":
        try:
            value = Decimal(str(item).strip())
        except InvalidOperation:
            raise ValueError("Enter a number.") from None
        if not value.is_finite() or abs(value) >= Decimal("1e14"):
            raise ValueError("Enter a number.")
        return value
    if cf.type == "date":
        if isinstance(item, dt.date):
            return item
        try:
            return dt.date.fromisoformat(str(item).strip())
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.") from None
    text = str(item).strip()
    if cf.type in ("choice", "multi"):
        if text not in (cf.choices or []):
            raise ValueError(f"“{text}” is not one of the choices.")
    elif len(text) > 500:
        raise ValueError("At most 500 characters.")
    return text


def _write_custom(customer: Customer, values: dict[CustomField, list[Any]]) -> None:
    for cf, typed in values.items():
        CustomValue.objects.filter(customer=customer, field=cf).delete()
        rows = []
        for value in typed:
            row = CustomValue(customer=customer, field=cf)
            if cf.type == "number":
                row.number = value
            elif cf.type == "date":
                row.date = value
            else:
                row.text = value
            rows.append(row)
        CustomValue.objects.bulk_create(rows)


def _owner_and_team(customer: Customer) -> None:
    """The team follows the owner unless given explicitly."""
    if customer.owner_id and not customer.team_id:
        customer.team_id = User.objects.filter(pk=customer.owner_id).values_list(
            "team_id", flat=True).first()


def customer_create(*, actor: Actor, data: dict[str, Any], custom: dict[str, Any] | None = None,
                    tags: list[str] | None = None) -> Customer:
    """Create a customer. Action ``add``; audit ``create``; event ``customers.customer_created``.

    The owner defaults to the actor; the new row must lie inside the actor's ``add`` scope.
    """
    policy.require_model(actor, Customer, "add")
    with transaction.atomic():
        customer = Customer()
        data = dict(data)
        data.setdefault("owner", actor.user.pk)
        writable = policy.writable_fields(actor, Customer, "add")
        assign(customer, data, allowed=CUSTOMER_FIELDS, writable=writable)
        _owner_and_team(customer)
        _set_search_keys(customer)
        validate(customer, exclude=["tags"])
        cleaned_custom = _clean_custom(custom or {}, partial=False)
        if not policy.allows(actor, "add", customer):
            raise PermissionDenied("You may not create customers for that owner or team.")
        customer.save()
        _write_custom(customer, cleaned_custom)
        if tags:
            customer.tags.set(_tags(tags))
        after = _snapshot(customer)
        if tags:
            after["tags"] = sorted(tags)
        audit.record(actor, customer, "create", {}, after, customer_id=customer.pk)
        emit("customers.customer_created", customer_id=customer.pk, actor_id=actor.user.pk)
    return customer


def customer_update(*, actor: Actor, customer_id: int, version: int,
                    changes: dict[str, Any], custom: dict[str, Any] | None = None) -> Customer:
    """Change a customer. Action ``change``; stale ``version`` → Conflict; audit ``update``
    with each field's old and new value; event ``customers.customer_updated``."""
    with transaction.atomic():
        customer = queries.customer_for_write(actor=actor, customer_id=customer_id)
        before = _snapshot(customer)
        if customer.version != version:
            raise Conflict("This customer was changed by someone else.",
                           current=queries.customer_current(actor=actor,
                                                            customer_id=customer_id),
                           current_version=customer.version)
        writable = policy.writable_fields(actor, Customer, "change")
        changed = assign(customer, changes, allowed=CUSTOMER_FIELDS, writable=writable)
        if "owner" in changed and "team" not in changes:
            customer.team_id = None
            _owner_and_team(customer)
            changed.append("team")
        if "name" in changed:
            _set_search_keys(customer)
            changed += ["name_pinyin", "name_initials"]
        validate(customer, exclude=["tags"])
        if ("kind" in changed and customer.kind != "organisation"
                and Contact.objects.filter(organisation_id=customer.pk).exists()):
            raise ValidationError({"kind": [_(
                "An organisation with contact persons cannot become a person: remove its "
                "contacts first.")]})
        cleaned_custom = _clean_custom(custom or {}, partial=True)
        if not changed and not cleaned_custom:
            return customer
        customer.updated_at = timezone.now()
        save_versioned(customer, version, {*changed, "updated_at"},
                       "This customer was changed by someone else.")
        _write_custom(customer, cleaned_custom)
        if not policy.allows(actor, "change", customer):
            raise PermissionDenied("After this change the customer would be outside your "
                                   "scope.")
        audit.record(actor, customer, "update", before, _snapshot(customer),
                     customer_id=customer.pk)
        emit("customers.customer_updated", customer_id=customer.pk, actor_id=actor.user.pk,
             fields=sorted(set(changed) | {f"cf_{cf.code}" for cf in cleaned_custom}))
    return customer


def customer_delete(*, actor: Actor, customer_id: int, version: int | None = None) -> None:
    """Delete a customer and its details. Action ``delete``; audit ``delete`` keeps the last
    values; event ``customers.customer_deleted``."""
    with transaction.atomic():
        customer = queries.customer_for_write(actor=actor, customer_id=customer_id,
                                              action="delete")
        if version is not None and customer.version != version:
            raise Conflict("This customer was changed by someone else.",
                           current_version=customer.version)
        before = _snapshot(customer)
        pk = customer.pk
        audit.record(actor, customer, "delete", before, {}, customer_id=pk)
        customer.delete()
        emit("customers.customer_deleted", customer_id=pk, actor_id=actor.user.pk)


def customer_set_tags(*, actor: Actor, customer_id: int, tags: list[str]) -> Customer:
    """Replace a customer's tags (creating new tag names). Audit ``update`` of ``tags``."""
    with transaction.atomic():
        customer = queries.customer_for_write(actor=actor, customer_id=customer_id)
        old = sorted(customer.tags.values_list("name", flat=True))
        new_tags = _tags(tags)
        customer.tags.set(new_tags)
        new = sorted(t.name for t in new_tags)
        if old != new:
            Customer.objects.filter(pk=customer.pk).update(version=F("version") + 1,
                                                           updated_at=timezone.now())
            audit.record(actor, customer, "update", changes={"tags": [old, new]},
                         customer_id=customer.pk)
            emit("customers.customer_updated", customer_id=customer.pk, fields=["tags"],
                 actor_id=actor.user.pk)
    return customer


def _tags(names: list[str]) -> list[Tag]:
    out = []
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        if len(name) > 50:
            raise ValidationError({"tags": [f"“{name[:20]}…” is longer than 50 characters."]})
        tag, _ = Tag.objects.get_or_create(name=name)
        out.append(tag)
    return out


def customers_reassign(*, actor: Actor, customer_ids: list[int], owner_id: int) -> int:
    """Give customers to another owner (e.g. when a rep leaves). Each row needs ``change``
    with ``owner`` writable; rows are locked in id order; one audit record per customer."""
    if "owner" not in policy.writable_fields(actor, Customer, "change"):
        raise PermissionDenied("You may not change owners.")
    try:
        owner = User.objects.get(pk=owner_id, is_active=True)
    except User.DoesNotExist:
        raise ValidationError({"owner": ["No such active user."]}) from None
    count = 0
    with transaction.atomic():
        for cid in sorted(set(customer_ids)):
            c = queries.customer_for_write(actor=actor, customer_id=cid)
            if c.owner_id == owner.pk:
                continue
            customer_update(actor=actor, customer_id=cid, version=c.version,
                            changes={"owner": owner.pk})
            count += 1
    return count


# Contact points --------------------------------------------------------------------------

def _normalize_point(kind: str, value: str) -> tuple[str, str]:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": ["This field is required."]})
    if kind in ("mobile", "phone"):
        try:
            e164, digits = normalize_phone(value)
        except PhoneError as exc:
            raise ValidationError({"value": [f"Not a valid phone number ({exc})."]}) from None
        return format_phone(e164), digits
    if kind == "email":
        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.core.validators import validate_email

        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValidationError({"value": ["Enter a valid email address."]}) from None
        return value, value.lower()
    if kind == "qq" and not (value.isdigit() and 5 <= len(value) <= 12):
        raise ValidationError({"value": ["A QQ number has 5 to 12 digits."]})
    if kind == "wechat" and not (6 <= len(value) <= 20):
        raise ValidationError({"value": ["A WeChat ID has 6 to 20 characters."]})
    return value, value.lower()


def _refresh_primary(customer: Customer) -> None:
    points = list(ContactPoint.objects.filter(customer=customer).order_by("-is_primary", "id"))
    phone = next((p.value for p in points if p.kind in ("mobile", "phone")), "")
    email = next((p.value for p in points if p.kind == "email"), "")
    address = Address.objects.filter(customer=customer).order_by("-is_primary", "id").first()
    Customer.objects.filter(pk=customer.pk).update(
        primary_phone=phone, primary_email=email,
        province=address.province if address else "", updated_at=timezone.now(),
        version=F("version") + 1,
    )


def contact_point_add(*, actor: Actor, customer_id: int, kind: str, value: str,
                      label: str = "", is_primary: bool = False,
                      contact_id: int | None = None) -> ContactPoint:
    """Add a phone (normalised to E.164), email, WeChat ID, QQ or other. Action ``change`` on
    the customer; audit ``create``; event ``customers.contact_point_added``."""
    with transaction.atomic():
        customer = queries.customer_for_write(actor=actor, customer_id=customer_id)
        stored, normalized = _normalize_point(kind, value)
        point = ContactPoint(customer=customer, kind=kind, value=stored, normalized=normalized,
                             label=(label or "").strip(), is_primary=is_primary)
        if contact_id is not None:
            if not Contact.objects.filter(pk=contact_id, organisation=customer).exists():
                raise ValidationError({"contact": ["No such contact at this customer."]})
            point.contact_id = contact_id
        validate(point)
        if ContactPoint.objects.filter(customer=customer, kind=kind,
                                       normalized=normalized).exists():
            raise ValidationError({"value": ["This customer already has this contact point."]})
        if is_primary:
            ContactPoint.objects.filter(customer=customer, kind=kind).update(is_primary=False)
        point.save()
        _refresh_primary(customer)
        audit.record(actor, point, "create", {}, audit.snapshot(
            point, ["kind", "value", "label", "is_primary"]), customer_id=customer.pk)
        emit("customers.contact_point_added", customer_id=customer.pk, point_id=point.pk)
    return point


def contact_point_remove(*, actor: Actor, point_id: int) -> None:
    with transaction.atomic():
        try:
            point = ContactPoint.objects.select_for_update().get(pk=point_id)
        except ContactPoint.DoesNotExist:
            raise NotFound("contact point not found") from None
        customer = queries.customer_for_write(actor=actor, customer_id=point.customer_id)
        before = audit.snapshot(point, ["kind", "value", "label", "is_primary"])
        audit.record(actor, point, "delete", before, {}, customer_id=customer.pk)
        point.delete()
        _refresh_primary(customer)
        emit("customers.contact_point_removed", customer_id=customer.pk, point_id=point_id)


# Addresses -------------------------------------------------------------------------------

ADDRESS_FIELDS = {"kind", "province", "city", "district", "street", "postcode", "is_primary"}


def address_add(*, actor: Actor, customer_id: int, data: dict[str, Any]) -> Address:
    with transaction.atomic():
        customer = queries.customer_for_write(actor=actor, customer_id=customer_id)
        address = Address(customer=customer)
        assign(address, data, allowed=ADDRESS_FIELDS, writable=ADDRESS_FIELDS)
        validate(address, exclude=["customer"])
        if address.is_primary or not Address.objects.filter(customer=customer).exists():
            Address.objects.filter(customer=customer).update(is_primary=False)
            address.is_primary = True
        address.save()
        _refresh_primary(customer)
        audit.record(actor, address, "create", {}, audit.snapshot(address, sorted(
            ADDRESS_FIELDS)), customer_id=customer.pk)
        emit("customers.address_added", customer_id=customer.pk, address_id=address.pk)
    return address


def address_remove(*, actor: Actor, address_id: int) -> None:
    with transaction.atomic():
        try:
            address = Address.objects.select_for_update().get(pk=address_id)
        except Address.DoesNotExist:
            raise NotFound("address not found") from None
        customer = queries.customer_for_write(actor=actor, customer_id=address.customer_id)
        audit.record(actor, address, "delete", audit.snapshot(address, sorted(ADDRESS_FIELDS)),
                     {}, customer_id=customer.pk)
        address.delete()
        _refresh_primary(customer)


# Contacts (persons at an organisation) ----------------------------------------------------

CONTACT_FIELDS = {"name", "role", "department", "phone", "email", "is_primary"}


def _clean_contact(contact: Contact) -> None:
    contact.name = (contact.name or "").strip()
    contact.name_pinyin, contact.name_initials = pinyin_keys(contact.name)
    if contact.phone:
        try:
            contact.phone = format_phone(normalize_phone(contact.phone)[0])
        except PhoneError as exc:
            raise ValidationError({"phone": [f"Not a valid phone number ({exc})."]}) from None
    validate(contact, exclude=["organisation"])


def contact_create(*, actor: Actor, customer_id: int, data: dict[str, Any]) -> Contact:
    """Add a contact person to an organisation customer. Action ``change`` on the
    organisation; audit ``create``; event ``customers.contact_created``."""
    with transaction.atomic():
        org = queries.customer_for_write(actor=actor, customer_id=customer_id)
        if org.kind != "organisation":
            raise ValidationError({"organisation": ["Contacts belong to organisations."]})
        contact = Contact(organisation=org)
        assign(contact, data, allowed=CONTACT_FIELDS, writable=CONTACT_FIELDS)
        _clean_contact(contact)
        contact.save()
        audit.record(actor, contact, "create", {}, audit.snapshot(contact, sorted(
            CONTACT_FIELDS)), customer_id=org.pk)
        emit("customers.contact_created", customer_id=org.pk, contact_id=contact.pk)
    return contact


def contact_update(*, actor: Actor, contact_id: int, version: int,
                   changes: dict[str, Any]) -> Contact:
    with transaction.atomic():
        try:
            contact = Contact.objects.select_for_update().get(pk=contact_id)
        except Contact.DoesNotExist:
            raise NotFound("contact not found") from None
        queries.customer_for_write(actor=actor, customer_id=contact.organisation_id)
        if contact.version != version:
            raise Conflict("This contact was changed by someone else.",
                           current=audit.snapshot(contact, sorted(CONTACT_FIELDS)),
                           current_version=contact.version)
        before = audit.snapshot(contact, sorted(CONTACT_FIELDS))
        assign(contact, changes, allowed=CONTACT_FIELDS, writable=CONTACT_FIELDS)
        _clean_contact(contact)
        contact.version += 1
        contact.save()
        audit.record(actor, contact, "update", before, audit.snapshot(
            contact, sorted(CONTACT_FIELDS)), customer_id=contact.organisation_id)
    return contact


def contact_delete(*, actor: Actor, contact_id: int) -> None:
    with transaction.atomic():
        try:
            contact = Contact.objects.select_for_update().get(pk=contact_id)
        except Contact.DoesNotExist:
            raise NotFound("contact not found") from None
        queries.customer_for_write(actor=actor, customer_id=contact.organisation_id)
        audit.record(actor, contact, "delete", audit.snapshot(contact, sorted(CONTACT_FIELDS)),
                     {}, customer_id=contact.organisation_id)
        contact.delete()


# Consent ---------------------------------------------------------------------------------

def consent_record(*, actor: Actor, customer_id: int, channel: str, purpose: str,
                   granted: bool, source: str = "", evidence: str = "",
                   at: dt.datetime | None = None) -> Consent:
    """Record a consent decision (granted or withdrawn); the newest per channel and purpose is
    in force. Audit ``create``; event ``customers.consent_recorded`` (withdrawals stop
    marketing on every channel that listens)."""
    with transaction.atomic():
        customer = queries.customer_for_write(actor=actor, customer_id=customer_id)
        consent = Consent(customer=customer, channel=channel, purpose=purpose,
                          granted=bool(granted), source=(source or actor.channel)[:100],
                          evidence=(evidence or "")[:300], at=at or timezone.now())
        validate(consent, exclude=["customer"])
        consent.save()
        audit.record(actor, consent, "create", {}, audit.snapshot(
            consent, ["channel", "purpose", "granted", "source", "evidence"]),
            customer_id=customer.pk)
        emit("customers.consent_recorded", customer_id=customer.pk, channel=channel,
             purpose=purpose, granted=bool(granted))
    return consent


# Bulk creation (imports, demo data) -------------------------------------------------------

def customer_bulk_create(*, actor: Actor, records: list[dict[str, Any]],
                         batch_size: int = 500) -> list[int]:
    """Create many customers at once, each with its contact points, addresses, contacts and
    tags. Every row is validated like :func:`customer_create` (errors name the row index and
    field) and must lie in the actor's ``add`` scope; one transaction per batch, audited in
    bulk (``create`` per customer). Record shape: ``{"data": {...}, "phones": [...],
    "emails": [...], "wechat": str, "qq": str, "addresses": [{...}], "contacts": [{...}],
    "tags": [...]}``. Returns the new ids in order."""
    policy.require_model(actor, Customer, "add")
    writable = policy.writable_fields(actor, Customer, "add")
    ids: list[int] = []
    tag_cache: dict[str, Tag] = {}
    for start in range(0, len(records), batch_size):
        chunk = records[start:start + batch_size]
        with transaction.atomic():
            customers, extras = [], []
            for offset, rec in enumerate(chunk):
                row = start + offset
                try:
                    c, extra = _prepare_record(actor, rec, writable)
                except ValidationError as exc:
                    raise ValidationError({f"row {row}.{k}": v for k, v in
                                           exc.message_dict.items()}) from None
                customers.append(c)
                extras.append(extra)
            Customer.objects.bulk_create(customers)
            points, addresses, contacts, links, audit_rows = [], [], [], [], []
            through = Customer.tags.through
            for c, extra in zip(customers, extras, strict=True):
                for p in extra["points"]:
                    p.customer_id = c.pk
                    points.append(p)
                for a in extra["addresses"]:
                    a.customer_id = c.pk
                    addresses.append(a)
                for ct in extra["contacts"]:
                    ct.organisation_id = c.pk
                    contacts.append(ct)
                for name in extra["tags"]:
                    if name not in tag_cache:
                        tag_cache[name] = _tags([name])[0]
                    links.append(through(customer_id=c.pk, tag_id=tag_cache[name].pk))
                after = _snapshot_plain(c)
                after["contact_points"] = [p.value for p in extra["points"]]
                if extra["tags"]:
                    after["tags"] = sorted(extra["tags"])
                audit_rows.append((c, "create", audit.diff({}, after), c.pk))
            ContactPoint.objects.bulk_create(points)
            Address.objects.bulk_create(addresses)
            Contact.objects.bulk_create(contacts)
            through.objects.bulk_create(links, ignore_conflicts=True)
            audit.record_many(actor, audit_rows)
            ids.extend(c.pk for c in customers)
        emit("customers.customers_imported", customer_ids=[c.pk for c in customers],
             actor_id=actor.user.pk)
    return ids


def _snapshot_plain(c: Customer) -> dict[str, Any]:
    return audit.snapshot(c, AUDIT_CUSTOMER)


def _prepare_record(actor: Actor, rec: dict[str, Any], writable: set[str]
                    ) -> tuple[Customer, dict[str, Any]]:
    c = Customer()
    data = dict(rec.get("data", {}))
    data.setdefault("owner", actor.user.pk)
    assign(c, data, allowed=CUSTOMER_FIELDS, writable=writable)
    _owner_and_team(c)
    _set_search_keys(c)
    validate(c, exclude=["tags"])
    if not policy.allows(actor, "add", c):
        raise PermissionDenied("You may not create customers for that owner or team.")
    points: list[ContactPoint] = []
    for i, phone in enumerate(rec.get("phones", [])):
        stored, norm = _normalize_point("mobile", phone)
        points.append(ContactPoint(kind="mobile", value=stored, normalized=norm,
                                   is_primary=i == 0))
    for i, email in enumerate(rec.get("emails", [])):
        stored, norm = _normalize_point("email", email)
        points.append(ContactPoint(kind="email", value=stored, normalized=norm,
                                   is_primary=i == 0))
    for kind in ("wechat", "qq"):
        if rec.get(kind):
            stored, norm = _normalize_point(kind, rec[kind])
            points.append(ContactPoint(kind=kind, value=stored, normalized=norm,
                                       is_primary=True))
    c.primary_phone = next((p.value for p in points if p.kind == "mobile"), "")
    c.primary_email = next((p.value for p in points if p.kind == "email"), "")
    addresses = []
    for i, a in enumerate(rec.get("addresses", [])):
        addr = Address(**{k: v for k, v in a.items() if k in ADDRESS_FIELDS})
        addr.is_primary = i == 0
        addresses.append(addr)
    if addresses:
        c.province = addresses[0].province
    contacts = []
    for d in rec.get("contacts", []):
        ct = Contact(**{k: v for k, v in d.items() if k in CONTACT_FIELDS})
        ct.name_pinyin, ct.name_initials = pinyin_keys(ct.name)
        if ct.phone:
            ct.phone = format_phone(normalize_phone(ct.phone)[0])
        contacts.append(ct)
    return c, {"points": points, "addresses": addresses, "contacts": contacts,
               "tags": [t for t in rec.get("tags", []) if t]}
