"""Leads: capture (web form, API, import, by hand), assignment, duplicate check,
qualification, conversion to customer + contact + opportunity in one step, loss."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from guanxi.core import audit
from guanxi.core.access import Actor, policy
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, PermissionDenied, ValidationError
from guanxi.core.models import User
from guanxi.core.services import assign, validate
from guanxi.core.text import PhoneError, format_phone, normalize_phone
from guanxi.sales.models import AssignmentRule, Lead, LeadStatus
from guanxi.sales.queries import leads as queries

LEAD_FIELDS = {"name", "company", "title", "phone", "email", "province", "message", "source",
               "campaign", "owner", "team"}
AUDIT_FIELDS = sorted(LEAD_FIELDS | {"status", "lost_reason", "customer", "opportunity",
                                     "marketing_consent"})


def _clean_contact_fields(lead: Lead) -> None:
    errors: dict[str, list[str]] = {}
    lead.name = (lead.name or "").strip()
    if lead.phone:
        try:
            e164, digits = normalize_phone(lead.phone)
            lead.phone, lead.phone_digits = format_phone(e164), digits
        except PhoneError as exc:
            errors["phone"] = [f"Not a valid phone number ({exc})."]
    else:
        lead.phone_digits = ""
    if lead.email:
        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.core.validators import validate_email

        lead.email = lead.email.strip().lower()
        try:
            validate_email(lead.email)
        except DjangoValidationError:
            errors["email"] = ["Enter a valid email address."]
    if not lead.phone and not lead.email:
        errors.setdefault("phone", []).append("Give a phone number or an email address.")
    if errors:
        raise ValidationError(errors)


def _assign(lead: Lead) -> None:
    """The first matching rule's team, round robin over its members (locked, so two leads
    arriving together go to different people)."""
    for rule in AssignmentRule.objects.select_for_update().order_by("position", "id"):
        if rule.province and rule.province != lead.province:
            continue
        if rule.source and rule.source != lead.source:
            continue
        members = queries.team_members_for_assignment(rule.team_id)
        if not members:
            continue
        after = [m for m in members if rule.last_user_id is None or m > rule.last_user_id]
        owner_id = (after or members)[0]
        AssignmentRule.objects.filter(pk=rule.pk).update(last_user_id=owner_id)
        lead.owner_id, lead.team_id = owner_id, rule.team_id
        return


def lead_create(*, actor: Actor, data: dict[str, Any], consent: bool = False,
                consent_evidence: str = "", auto_assign: bool = True) -> Lead:
    """Capture a lead. Action ``add`` on leads. Without an explicit owner, assignment rules
    pick one (else the actor). Marks a possible duplicate customer. A ticked consent box is
    recorded as a consent record once the lead becomes a customer. Audit ``create``; event
    ``sales.lead_created``."""
    policy.require_model(actor, Lead, "add")
    with transaction.atomic():
        lead = Lead()
        assign(lead, data, allowed=LEAD_FIELDS, writable=policy.writable_fields(actor, Lead,
                                                                                  "add"))
        _clean_contact_fields(lead)
        if not lead.owner_id and auto_assign:
            _assign(lead)
        if not lead.owner_id and actor.user.username != "system":
            lead.owner_id = actor.user.pk
        if lead.owner_id and not lead.team_id:
            lead.team_id = User.objects.filter(pk=lead.owner_id).values_list(
                "team_id", flat=True).first()
        validate(lead, exclude=["customer", "opportunity", "duplicate_of"])
        if lead.owner_id and not policy.allows(actor, "add", lead):
            raise PermissionDenied("You may not create leads for that owner or team.")
        dupes = queries.duplicate_candidates(phone_digits=lead.phone_digits, email=lead.email,
                                             name=lead.name)
        if dupes["customer_ids"]:
            lead.duplicate_of_id = dupes["customer_ids"][0]
        if consent:
            lead.marketing_consent = True
            lead.consent_evidence = (consent_evidence or f"{lead.source} form")[:300]
        lead.save()
        audit.record(actor, lead, "create", {}, audit.snapshot(lead, AUDIT_FIELDS))
        emit("sales.lead_created", lead_id=lead.pk, owner_id=lead.owner_id,
             duplicate_customer_id=lead.duplicate_of_id)
    return lead


def lead_update(*, actor: Actor, lead_id: int, version: int, changes: dict[str, Any]) -> Lead:
    with transaction.atomic():
        lead = queries.lead_for_write(actor=actor, lead_id=lead_id)
        if lead.version != version:
            raise Conflict("This lead was changed by someone else.",
                           current=audit.snapshot(lead, AUDIT_FIELDS),
                           current_version=lead.version)
        before = audit.snapshot(lead, AUDIT_FIELDS)
        assign(lead, changes, allowed=LEAD_FIELDS,
               writable=policy.writable_fields(actor, Lead, "change"))
        _clean_contact_fields(lead)
        validate(lead, exclude=["customer", "opportunity", "duplicate_of"])
        lead.version += 1
        lead.updated_at = timezone.now()
        lead.save()
        if not policy.allows(actor, "change", lead):
            raise PermissionDenied("After this change the lead would be outside your scope.")
        audit.record(actor, lead, "update", before, audit.snapshot(lead, AUDIT_FIELDS))
    return lead


def _set_status(actor: Actor, lead_id: int, version: int, status: str, **extra) -> Lead:
    with transaction.atomic():
        lead = queries.lead_for_write(actor=actor, lead_id=lead_id)
        if lead.version != version:
            raise Conflict("This lead was changed by someone else.",
                           current_version=lead.version)
        if lead.status == LeadStatus.CONVERTED:
            raise ValidationError({"status": ["A converted lead cannot change."]})
        before = audit.snapshot(lead, AUDIT_FIELDS)
        lead.status = status
        for k, v in extra.items():
            setattr(lead, k, v)
        Lead.objects.filter(pk=lead.pk).update(status=status, version=F("version") + 1,
                                               updated_at=timezone.now(), **extra)
        lead.version += 1
        audit.record(actor, lead, "update", before, audit.snapshot(lead, AUDIT_FIELDS))
        emit(f"sales.lead_{status}", lead_id=lead.pk)
    return lead


def lead_qualify(*, actor: Actor, lead_id: int, version: int) -> Lead:
    return _set_status(actor, lead_id, version, LeadStatus.QUALIFIED)


def lead_lose(*, actor: Actor, lead_id: int, version: int, reason: str) -> Lead:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"lost_reason": ["Say why the lead was lost."]})
    return _set_status(actor, lead_id, version, LeadStatus.LOST, lost_reason=reason[:200])


def lead_convert(*, actor: Actor, lead_id: int, version: int,
                 customer_id: int | None = None, opportunity: dict[str, Any] | None = None
                 ) -> Lead:
    """Convert in one step, all or nothing: an existing customer (``customer_id``, e.g. the
    duplicate found) or a new one (organisation with the lead as contact when a company is
    given, else a person), its contact points, the consent the lead gave, and an opportunity
    (unless ``opportunity`` is None and ``{}`` means defaults). The lead links to both.
    Audited; event ``sales.lead_converted``."""
    from guanxi.customers import queries as customer_queries
    from guanxi.customers import services as customer_services
    from guanxi.sales.services import opportunities as opp_services

    with transaction.atomic():
        lead = queries.lead_for_write(actor=actor, lead_id=lead_id)
        if lead.version != version:
            raise Conflict("This lead was changed by someone else.",
                           current_version=lead.version)
        if lead.status in (LeadStatus.CONVERTED, LeadStatus.LOST):
            raise ValidationError({"status": [f"A {lead.status} lead cannot be converted."]})
        before = audit.snapshot(lead, AUDIT_FIELDS)
        if customer_id:
            customer = customer_queries.customer_get(actor=actor, customer_id=customer_id)
        else:
            is_org = bool(lead.company)
            customer = customer_services.customer_create(actor=actor, data={
                "kind": "organisation" if is_org else "person",
                "name": lead.company if is_org else lead.name,
                "source_type": "direct", "source_channel": _channel(lead.source),
                "owner": lead.owner_id or actor.user.pk,
            })
            if is_org:
                customer_services.contact_create(actor=actor, customer_id=customer.pk, data={
                    "name": lead.name, "role": lead.title, "phone": lead.phone,
                    "email": lead.email, "is_primary": True})
            if lead.phone:
                customer_services.contact_point_add(actor=actor, customer_id=customer.pk,
                                                    kind="mobile", value=lead.phone,
                                                    is_primary=True)
            if lead.email:
                customer_services.contact_point_add(actor=actor, customer_id=customer.pk,
                                                    kind="email", value=lead.email,
                                                    is_primary=True)
            if lead.province:
                customer_services.address_add(actor=actor, customer_id=customer.pk,
                                              data={"province": lead.province})
        if lead.marketing_consent:
            customer_services.consent_record(
                actor=actor, customer_id=customer.pk, channel="any", purpose="marketing",
                granted=True, source=f"lead #{lead.pk} ({lead.source})",
                evidence=lead.consent_evidence, at=lead.created_at)
        opp = None
        if opportunity is not None:
            label = lead.campaign or lead.source
            opp = opp_services.opportunity_create(actor=actor, data={
                "name": opportunity.get("name") or f"{customer.name} — {label}",
                "customer": customer.pk, "owner": customer.owner_id,
                **{k: v for k, v in opportunity.items() if k != "name"}})
        Lead.objects.filter(pk=lead.pk).update(
            status=LeadStatus.CONVERTED, customer_id=customer.pk,
            opportunity_id=opp.pk if opp else None, version=F("version") + 1,
            updated_at=timezone.now())
        lead.status, lead.customer_id = LeadStatus.CONVERTED, customer.pk
        lead.opportunity_id = opp.pk if opp else None
        lead.version += 1
        audit.record(actor, lead, "update", before, audit.snapshot(lead, AUDIT_FIELDS),
                     customer_id=customer.pk)
        emit("sales.lead_converted", lead_id=lead.pk, customer_id=customer.pk,
             opportunity_id=lead.opportunity_id)
    return lead


def _channel(source: str) -> str:
    return {"web_form": "website", "api": "other", "import": "import", "event": "event",
            "wechat": "wechat", "referral": "referral"}.get(source, "other")


def assignment_rule_save(*, actor: Actor, team_id: int, province: str = "", source: str = "",
                         position: int = 0) -> AssignmentRule:
    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        rule = AssignmentRule.objects.create(team_id=team_id, province=province.strip(),
                                             source=source.strip(), position=position)
        audit.record(actor, rule, "create", {}, {"team": team_id, "province": province,
                                                 "source": source, "position": position})
    return rule
