"""Reads of opportunities: lists, the kanban board, forecast and the manager's numbers.
Everything starts from the policy's scope, so every drill-down respects it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth

from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import NotFound, ValidationError
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.sales.models import Opportunity, Pipeline, SalesTarget, Stage, StageHistory

BOARD_CARDS = 30
CARD_COLUMNS = ("id", "name", "customer__name", "amount", "currency", "expected_close",
                "owner__username", "owner__first_name", "version", "stage_id", "next_step")


def default_pipeline() -> Pipeline:
    p = Pipeline.objects.order_by("-is_default", "id").first()
    if p is None:
        raise ValidationError({"pipeline": ["No pipeline exists."]})
    return p


def pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.all())


def pipeline_get(pipeline_id: int | None) -> Pipeline:
    if not pipeline_id:
        return default_pipeline()
    try:
        return Pipeline.objects.get(pk=pipeline_id)
    except (Pipeline.DoesNotExist, ValueError):
        raise NotFound("pipeline not found") from None


def stages_of(pipeline_id: int) -> list[Stage]:
    return list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("position"))


def first_stage(pipeline_id: int) -> Stage:
    stage = Stage.objects.filter(pipeline_id=pipeline_id, is_won=False,
                                 is_lost=False).order_by("position").first()
    if stage is None:
        raise ValidationError({"pipeline": ["No such pipeline, or it has no open stage."]})
    return stage


def _scoped(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Opportunity.objects.all(), actor, action)


@dataclass
class OpportunityFilters:
    q: str = ""
    status: str = ""
    stage: int | None = None
    owner: int | None = None
    team: int | None = None
    customer: int | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    pipeline: int | None = None


def _filtered(actor: Actor, f: OpportunityFilters) -> QuerySet:
    qs = _scoped(actor)
    for name in ("status",):
        if getattr(f, name):
            qs = qs.filter(**{name: getattr(f, name)})
    for name in ("stage", "owner", "team", "customer", "pipeline"):
        if getattr(f, name):
            qs = qs.filter(**{f"{name}_id": getattr(f, name)})
    if f.close_from:
        qs = qs.filter(expected_close__gte=f.close_from)
    if f.close_to:
        qs = qs.filter(expected_close__lte=f.close_to)
    if f.q:
        qs = qs.filter(Q(name__contains=f.q) | Q(customer__name__contains=f.q))
    return qs


def opportunity_list(*, actor: Actor, filters: OpportunityFilters | None = None,
                     cursor: str | None = None, limit: int | None = None) -> Page[Opportunity]:
    qs = _filtered(actor, filters or OpportunityFilters()).select_related(
        "customer", "stage", "owner")
    return paginate(qs, Sort("id", True), cursor=cursor,
                    limit=max(1, min(limit or settings.LIST_PAGE_SIZE, 200)),
                    count_limit=settings.LIST_COUNT_LIMIT)


def opportunity_get(*, actor: Actor, opportunity_id: int) -> Opportunity:
    try:
        return _scoped(actor).select_related("customer", "stage", "pipeline", "owner",
                                             "team").get(pk=opportunity_id)
    except (Opportunity.DoesNotExist, ValueError, TypeError):
        raise NotFound("opportunity not found") from None


def opportunity_for_write(*, actor: Actor, opportunity_id: int, action: str = "change"
                          ) -> Opportunity:
    try:
        obj = Opportunity.objects.select_for_update().get(pk=opportunity_id)
    except (Opportunity.DoesNotExist, ValueError, TypeError):
        raise NotFound("opportunity not found") from None
    policy.require(actor, action, obj)
    return obj


def stage_history(*, actor: Actor, opportunity_id: int) -> list[dict]:
    """Each stage passed through with the days spent there."""
    opportunity_get(actor=actor, opportunity_id=opportunity_id)
    from django.utils import timezone

    now = timezone.now()
    out = []
    for h in StageHistory.objects.filter(opportunity_id=opportunity_id).select_related(
            "stage"):
        end = h.left_at or now
        out.append({"stage": h.stage, "entered_at": h.entered_at, "left_at": h.left_at,
                    "days": round((end - h.entered_at).total_seconds() / 86400, 1)})
    return out


@dataclass
class Column:
    stage: Stage
    cards: list[dict]
    count: int = 0
    amount: Decimal = Decimal("0")
    more: bool = False


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column] = field(default_factory=list)


def board(*, actor: Actor, pipeline_id: int | None = None, owner: int | None = None,
          per_column: int = BOARD_CARDS) -> Board:
    """The kanban board's first screen: per stage the count and CNY sum of the actor's
    visible opportunities (one GROUP BY) and the first cards by expected close date. Won
    and lost columns show those closed in the last 30 days.

    Every query reads only open and recently closed rows (indexes ``opp_board``,
    ``opp_closed``, ``opp_stage_close``), so the board costs the same after years of
    closed opportunities."""
    from django.utils import timezone

    pipeline = pipeline_get(pipeline_id)
    stages = stages_of(pipeline.pk)
    qs = _scoped(actor).filter(pipeline=pipeline)
    if owner:
        qs = qs.filter(owner_id=owner)
    recent = timezone.now() - dt.timedelta(days=30)
    qs = qs.filter(Q(status="open") | Q(closed_at__gte=recent))
    totals = {row["stage_id"]: row for row in qs.order_by().values("stage_id").annotate(
        n=Count("id"), s=Sum("amount_cny"))}
    result = Board(pipeline=pipeline)
    for stage in stages:
        t = totals.get(stage.pk, {"n": 0, "s": None})
        cards = []
        if t["n"]:
            column = qs.filter(stage_id=stage.pk)
            if stage.is_won or stage.is_lost:
                # Only closed rows sit in these stages: start from the recent ones, not
                # from every closed opportunity in close-date order.
                column = column.filter(closed_at__gte=recent)
            cards = list(column.order_by(
                F("expected_close").asc(nulls_last=True), "id").values(*CARD_COLUMNS)[
                :per_column])
        result.columns.append(Column(stage=stage, cards=cards, count=t["n"],
                                     amount=t["s"] or Decimal("0"),
                                     more=t["n"] > len(cards)))
    return result


# Manager's numbers -----------------------------------------------------------------------

def pipeline_by_stage(*, actor: Actor, pipeline_id: int | None = None) -> list[dict]:
    pipeline = pipeline_get(pipeline_id)
    rows = {r["stage_id"]: r for r in _scoped(actor).filter(
        pipeline=pipeline, status="open").order_by().values("stage_id").annotate(
        n=Count("id"), amount=Sum("amount_cny"),
        weighted=Sum(ExpressionWrapper(
            F("amount_cny") * Coalesce(F("probability"), F("stage__probability")),
            output_field=DecimalField(max_digits=24, decimal_places=6))))}
    out = []
    for s in stages_of(pipeline.pk):
        if s.is_won or s.is_lost:
            continue
        r = rows.get(s.pk, {})
        out.append({"stage": s, "count": r.get("n", 0), "amount": r.get("amount") or 0,
                    "weighted": r.get("weighted") or 0})
    return out


def win_rate(*, actor: Actor, start: dt.date, end: dt.date) -> dict:
    """Of the opportunities closed in [start, end]: won / (won + lost)."""
    qs = _scoped(actor).filter(closed_at__date__gte=start, closed_at__date__lte=end)
    won = qs.filter(status="won").count()
    lost = qs.filter(status="lost").count()
    return {"won": won, "lost": lost,
            "rate": (won / (won + lost)) if won + lost else None}


def average_cycle_days(*, actor: Actor, start: dt.date, end: dt.date) -> float | None:
    """Mean days from creation to winning, for opportunities won in [start, end]."""
    rows = list(_scoped(actor).filter(status="won", closed_at__date__gte=start,
                                      closed_at__date__lte=end).values_list(
        "created_at", "closed_at"))
    if not rows:
        return None
    return round(sum((c - o).total_seconds() for o, c in rows) / len(rows) / 86400, 1)


def average_days_in_stage(*, actor: Actor, pipeline_id: int | None = None) -> list[dict]:
    pipeline = pipeline_get(pipeline_id)
    visible = _scoped(actor).filter(pipeline=pipeline).values("id")
    rows = {r["stage_id"]: r["d"] for r in StageHistory.objects.filter(
        opportunity_id__in=visible, left_at__isnull=False).order_by().values(
        "stage_id").annotate(d=Avg(F("left_at") - F("entered_at")))}
    out = []
    for s in stages_of(pipeline.pk):
        d = rows.get(s.pk)
        days = d.total_seconds() / 86400 if isinstance(d, dt.timedelta) else (
            float(d) / 86400e6 if d is not None else None)
        out.append({"stage": s, "days": round(days, 1) if days is not None else None})
    return out


def forecast(*, actor: Actor, months: int = 6, group: str = "month") -> list[dict]:
    """Weighted forecast of open opportunities by expected close month (and by owner or
    team with ``group``), against the targets set for the same months, plus won amounts."""
    from django.utils import timezone

    today = timezone.localdate()
    start = today.replace(day=1)
    end_month = start
    for _ in range(months):
        end_month = (end_month + dt.timedelta(days=32)).replace(day=1)
    qs = _scoped(actor).filter(expected_close__gte=start, expected_close__lt=end_month)
    weighted = ExpressionWrapper(
        F("amount_cny") * Coalesce(F("probability"), F("stage__probability")),
        output_field=DecimalField(max_digits=24, decimal_places=6))
    keys = ["m"] + (["owner__username"] if group == "owner" else
                    ["team__name"] if group == "team" else [])
    open_rows = (qs.filter(status="open").annotate(m=TruncMonth("expected_close"))
                 .order_by().values(*keys).annotate(weighted=Sum(weighted),
                                                    pipeline=Sum("amount_cny")))
    won_rows = (_scoped(actor).filter(status="won", closed_at__date__gte=start,
                                      closed_at__date__lt=end_month)
                .annotate(m=TruncMonth("closed_at")).order_by().values(*keys)
                .annotate(won=Sum("amount_cny")))
    out: dict[tuple, dict] = {}

    def key_of(r):
        m = r["m"].date() if isinstance(r["m"], dt.datetime) else r["m"]
        return (m, r.get("owner__username") or r.get("team__name") or "")

    for r in open_rows:
        out.setdefault(key_of(r), {"weighted": 0, "pipeline": 0, "won": 0}).update(
            weighted=r["weighted"] or 0, pipeline=r["pipeline"] or 0)
    for r in won_rows:
        out.setdefault(key_of(r), {"weighted": 0, "pipeline": 0, "won": 0})["won"] = r["won"]
    targets = _targets(actor, start, end_month, group)
    rows = []
    for (m, who), v in sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        rows.append({"month": m, "who": who, **v, "target": targets.get((m, who))})
    for (m, who), amount in targets.items():
        if (m, who) not in out:
            rows.append({"month": m, "who": who, "weighted": 0, "pipeline": 0, "won": 0,
                         "target": amount})
    rows.sort(key=lambda r: (r["month"], r["who"]))
    return rows


def _targets(actor: Actor, start: dt.date, end: dt.date, group: str) -> dict:
    qs = SalesTarget.objects.filter(month__gte=start, month__lt=end).select_related(
        "owner", "team")
    scope = policy.scope_name(actor, Opportunity, "view")
    if scope in ("own", "team") and actor.user.team_id:
        qs = qs.filter(Q(team_id=actor.user.team_id) | Q(owner__team_id=actor.user.team_id))
    elif scope != "all":
        qs = qs.filter(owner=actor.user)
    out: dict = {}
    for t in qs:
        if group == "owner" and t.owner_id:
            key = (t.month, t.owner.username)
        elif group == "team" and t.team_id:
            key = (t.month, t.team.name)
        elif group == "month" and t.team_id:
            key = (t.month, "")
        else:
            continue
        out[key] = out.get(key, 0) + t.amount
    return out
