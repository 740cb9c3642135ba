"""Opportunities: create, change, move between stages (with history), win or lose;
pipelines and targets (managers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.core import audit
from guanxi.core.access import Actor, policy
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, PermissionDenied, ValidationError
from guanxi.core.models import User
from guanxi.core.services import assign, validate
from guanxi.sales.models import (
    Opportunity,
    OpportunityStatus,
    Pipeline,
    SalesTarget,
    Stage,
    StageHistory,
)
from guanxi.sales.queries import opportunities as queries
from guanxi.sales.services.common import money, to_cny

OPP_FIELDS = {"name", "customer", "pipeline", "stage", "amount", "currency", "probability",
              "expected_close", "competitors", "next_step", "owner", "team"}
AUDIT_FIELDS = sorted(OPP_FIELDS | {"status", "lost_reason", "won_reason"})


def _validate(opp: Opportunity) -> None:
    validate(opp)  # coerces to field types first; errors keyed by field
    errors: dict[str, list[str]] = {}
    if opp.amount is not None and Decimal(opp.amount) < 0:
        errors["amount"] = ["The amount cannot be negative."]
    if opp.probability is not None and not (0 <= Decimal(opp.probability) <= 1):
        errors["probability"] = ["Give a probability between 0 and 1."]
    if opp.stage_id and opp.pipeline_id and not Stage.objects.filter(
            pk=opp.stage_id, pipeline_id=opp.pipeline_id).exists():
        errors["stage"] = ["This stage belongs to another pipeline."]
    if errors:
        raise ValidationError(errors)
    opp.amount = money(opp.amount)
    opp.amount_cny = to_cny(opp.amount, opp.currency, field="currency")


def opportunity_create(*, actor: Actor, data: dict[str, Any]) -> Opportunity:
    """Action ``add`` on opportunities; the customer must be visible to the actor. Defaults:
    the default pipeline's first stage, owner = actor. Audit ``create``; event
    ``sales.opportunity_created``."""
    from guanxi.customers import queries as customer_queries

    policy.require_model(actor, Opportunity, "add")
    with transaction.atomic():
        opp = Opportunity()
        data = dict(data)
        data.setdefault("owner", actor.user.pk)
        if not data.get("pipeline"):
            data["pipeline"] = queries.default_pipeline().pk
        if not data.get("stage"):
            data["stage"] = queries.first_stage(data["pipeline"]).pk
        assign(opp, data, allowed=OPP_FIELDS,
               writable=policy.writable_fields(actor, Opportunity, "add"))
        if opp.customer_id is None:
            raise ValidationError({"customer": ["This field is required."]})
        customer_queries.customer_get(actor=actor, customer_id=opp.customer_id)
        if not opp.team_id:
            opp.team_id = User.objects.filter(pk=opp.owner_id).values_list(
                "team_id", flat=True).first()
        _validate(opp)
        if not policy.allows(actor, "add", opp):
            raise PermissionDenied("You may not create opportunities for that owner or team.")
        now = timezone.now()
        opp.stage_entered_at = now
        stage = Stage.objects.get(pk=opp.stage_id)
        if stage.is_won or stage.is_lost:
            raise ValidationError({"stage": ["Start an opportunity in an open stage."]})
        opp.save()
        StageHistory.objects.create(opportunity=opp, stage_id=opp.stage_id, entered_at=now)
        audit.record(actor, opp, "create", {}, audit.snapshot(opp, AUDIT_FIELDS),
                     customer_id=opp.customer_id)
        emit("sales.opportunity_created", opportunity_id=opp.pk, customer_id=opp.customer_id)
    return opp


def _locked(actor: Actor, opportunity_id: int, version: int | None) -> Opportunity:
    opp = queries.opportunity_for_write(actor=actor, opportunity_id=opportunity_id)
    if version is not None and opp.version != version:
        raise Conflict("This opportunity was changed by someone else.",
                       current=audit.snapshot(opp, AUDIT_FIELDS), current_version=opp.version)
    return opp


def _save(actor: Actor, opp: Opportunity, before: dict[str, Any]) -> Opportunity:
    opp.version += 1
    opp.updated_at = timezone.now()
    opp.save()
    if not policy.allows(actor, "change", opp):
        raise PermissionDenied("After this change the opportunity would be outside your "
                               "scope.")
    audit.record(actor, opp, "update", before, audit.snapshot(opp, AUDIT_FIELDS),
                 customer_id=opp.customer_id)
    return opp


def opportunity_update(*, actor: Actor, opportunity_id: int, version: int,
                       changes: dict[str, Any]) -> Opportunity:
    """Change fields other than the stage (use :func:`opportunity_move`)."""
    with transaction.atomic():
        opp = _locked(actor, opportunity_id, version)
        if opp.status != OpportunityStatus.OPEN:
            raise ValidationError({"status": ["A closed opportunity cannot change; reopen it "
                                              "by moving it to an open stage."]})
        before = audit.snapshot(opp, AUDIT_FIELDS)
        if "stage" in changes and changes["stage"] != opp.stage_id:
            raise ValidationError({"stage": ["Move the opportunity to change its stage."]})
        assign(opp, {k: v for k, v in changes.items() if k != "stage"}, allowed=OPP_FIELDS,
               writable=policy.writable_fields(actor, Opportunity, "change"))
        _validate(opp)
        _save(actor, opp, before)
        emit("sales.opportunity_updated", opportunity_id=opp.pk)
    return opp


def opportunity_move(*, actor: Actor, opportunity_id: int, stage_id: int,
                     version: int | None = None, reason: str = "") -> Opportunity:
    """Move to another stage of the same pipeline (the kanban drag). A won or lost stage
    closes the opportunity (a loss needs a reason); moving a closed one back to an open stage
    reopens it. Stage history records the time spent in each stage. Event
    ``sales.opportunity_moved`` (and ``_won`` / ``_lost``)."""
    with transaction.atomic():
        opp = _locked(actor, opportunity_id, version)
        stage = Stage.objects.filter(pk=stage_id, pipeline_id=opp.pipeline_id).first()
        if stage is None:
            raise ValidationError({"stage": ["No such stage in this pipeline."]})
        if stage.pk == opp.stage_id:
            return opp
        if stage.is_lost and not (reason or "").strip():
            raise ValidationError({"lost_reason": ["Say why the opportunity was lost."]})
        before = audit.snapshot(opp, AUDIT_FIELDS)
        now = timezone.now()
        StageHistory.objects.filter(opportunity=opp, left_at__isnull=True).update(left_at=now)
        StageHistory.objects.create(opportunity=opp, stage=stage, entered_at=now)
        opp.stage, opp.stage_entered_at = stage, now
        if stage.is_won:
            opp.status, opp.closed_at, opp.won_reason = "won", now, (reason or "")[:200]
            opp.lost_reason = ""
        elif stage.is_lost:
            opp.status, opp.closed_at, opp.lost_reason = "lost", now, reason.strip()[:200]
            opp.won_reason = ""
        else:
            opp.status, opp.closed_at = "open", None
            opp.lost_reason = opp.won_reason = ""
        _save(actor, opp, before)
        emit("sales.opportunity_moved", opportunity_id=opp.pk, stage_id=stage.pk)
        if opp.status != "open":
            emit(f"sales.opportunity_{opp.status}", opportunity_id=opp.pk,
                 customer_id=opp.customer_id, amount_cny=str(opp.amount_cny))
    return opp


def target_set(*, actor: Actor, month: dt.date, amount: Decimal, team_id: int | None = None,
               owner_id: int | None = None) -> SalesTarget:
    """Managers set monthly targets for their team or its people (admins for any)."""
    role = actor.user.role
    if not role or role.code not in ("manager", "admin"):
        raise PermissionDenied("Only managers set targets.")
    if (team_id is None) == (owner_id is None):
        raise ValidationError({"team": ["Give either a team or an owner."]})
    if amount is None or Decimal(amount) < 0:
        raise ValidationError({"amount": ["Give a target of 0 or more."]})
    if role.code == "manager":
        owner_team = (User.objects.filter(pk=owner_id).values_list("team_id", flat=True)
                      .first() if owner_id else team_id)
        if owner_team != actor.user.team_id:
            raise PermissionDenied("Managers set targets for their own team.")
    month = month.replace(day=1)
    with transaction.atomic():
        target, _ = SalesTarget.objects.update_or_create(
            month=month, team_id=team_id, owner_id=owner_id,
            defaults={"amount": money(amount)})
        audit.record(actor, target, "update", changes={"amount": [None, str(target.amount)]})
    return target


def pipeline_create(*, actor: Actor, name: str, stages: list[tuple[str, Decimal]]) -> Pipeline:
    """Administrators add a pipeline with ordered (name, probability) stages; won and lost
    stages are added at the end."""
    from guanxi.core.queries import require_admin

    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["This field is required."]})
    if not stages:
        raise ValidationError({"stages": ["Give at least one stage."]})
    with transaction.atomic():
        if Pipeline.objects.filter(name=name).exists():
            raise ValidationError({"name": ["A pipeline with this name exists."]})
        p = Pipeline.objects.create(name=name)
        for pos, (stage_name, prob) in enumerate(stages, start=1):
            if not 0 <= Decimal(prob) <= 1:
                raise ValidationError({"stages": [f"{stage_name}: probability 0 to 1."]})
            Stage.objects.create(pipeline=p, name=stage_name, position=pos,
                                 probability=Decimal(prob))
        n = len(stages)
        Stage.objects.create(pipeline=p, code="won", name="Won", position=n + 1,
                             probability=Decimal(1), is_won=True)
        Stage.objects.create(pipeline=p, code="lost", name="Lost", position=n + 2,
                             probability=Decimal(0), is_lost=True)
        audit.record(actor, p, "create", {}, {"name": name,
                                              "stages": [s for s, _ in stages]})
    return p
