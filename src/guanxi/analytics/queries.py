"""Reads of scores: the dashboard's figures, drill-down lists and a customer's history, all
from the actor's scope (an analyst sees everybody, masked; a rep sees the team)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, QuerySet, Sum

from guanxi.analytics.models import CostEntry, ModelRun, ScoreSnapshot
from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import NotFound
from guanxi.core.models import JobRun
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.customers.models import Customer
from guanxi.customers.queries import require_visible


def latest_run() -> ModelRun | None:
    return ModelRun.objects.filter(status="done").order_by("-as_of", "-id").first()


def runs(limit: int = 24) -> list[ModelRun]:
    return list(ModelRun.objects.filter(status="done").order_by("-as_of")[:limit])


def job_get(*, actor: Actor, job_id: int) -> JobRun:
    job = JobRun.objects.filter(pk=job_id, kind="analytics.refresh").first()
    if job is None or (
        job.actor_id != actor.user.pk and not (actor.user.role and actor.user.role.is_admin)
    ):
        raise NotFound("job not found")
    return job


def _snapshots(actor: Actor, as_of: dt.date) -> QuerySet:
    visible = policy.scope(Customer.objects.all(), actor).values("id")
    return ScoreSnapshot.objects.filter(as_of=as_of, customer_id__in=visible)


@dataclass
class Overview:
    run: ModelRun
    classes: list[dict]
    tiers: list[dict]
    abc: list[dict]
    stages: list[dict]
    clv_histogram: dict
    pareto: list[tuple[float, float]]
    n: int
    at_risk: list[ScoreSnapshot]
    clv_classes: list[dict]
    matrix: list[dict]
    portfolio: list[dict]
    clusters: list[dict]


def overview(*, actor: Actor, as_of: dt.date | None = None) -> Overview | None:
    run = ModelRun.objects.filter(status="done", as_of=as_of).first() if as_of else latest_run()
    if run is None:
        return None
    qs = _snapshots(actor, run.as_of)
    classes = list(
        qs.exclude(rfm_class="")
        .order_by()
        .values("rfm_class")
        .annotate(n=Count("id"), value=Sum("monetary"), clv=Sum("clv"))
    )
    tiers = list(
        qs.exclude(value_tier="")
        .order_by()
        .values("value_tier")
        .annotate(n=Count("id"), value=Sum("monetary"))
    )
    abc = list(
        qs.exclude(abc_class="")
        .order_by()
        .values("abc_class")
        .annotate(n=Count("id"), value=Sum("monetary"))
    )
    stages = list(qs.order_by().values("lifecycle_stage").annotate(n=Count("id")))
    monetary = sorted(
        (float(m) for m in qs.filter(monetary__gt=0).values_list("monetary", flat=True)),
        reverse=True,
    )
    pareto = _pareto(monetary)
    clvs = [float(c) for c in qs.exclude(clv=None).values_list("clv", flat=True)]
    groups = {key: list(qs.exclude(**{key: ""}).order_by().values(key).annotate(
        n=Count("id"), value=Sum("monetary"), profit=Sum("profit")))
        for key in ("clv_class", "matrix", "portfolio")}
    clusters = list(qs.exclude(cluster=None).order_by("cluster").values("cluster").annotate(
        n=Count("id"), value=Sum("monetary"), clv=Sum("clv")))
    return Overview(
        clusters=clusters,
        clv_classes=groups["clv_class"], matrix=groups["matrix"],
        portfolio=groups["portfolio"],
        run=run,
        classes=classes,
        tiers=tiers,
        abc=abc,
        stages=stages,
        clv_histogram=_histogram(clvs),
        pareto=pareto,
        n=qs.count(),
        at_risk=list(
            qs.exclude(expected_loss=None)
            .select_related("customer")
            .order_by("-expected_loss")[:20]
        ),
    )


def _pareto(values: list[float], points: int = 21) -> list[tuple[float, float]]:
    if not values:
        return []
    total = sum(values)
    out, running, n = [(0.0, 0.0)], 0.0, len(values)
    marks = {max(1, round(n * k / (points - 1))) for k in range(1, points)}
    for i, v in enumerate(values, start=1):
        running += v
        if i in marks:
            out.append((i / n, running / total))
    return out


def _histogram(values: list[float], bins: int = 20) -> dict:
    if not values:
        return {"edges": [], "counts": []}
    lo, hi = min(values), max(values)
    if hi == lo:
        return {"edges": [lo, hi], "counts": [len(values)]}
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / width), bins - 1)] += 1
    return {"edges": [lo + k * width for k in range(bins + 1)], "counts": counts}


def migration(*, actor: Actor, start: dt.date, end: dt.date) -> list[dict]:
    """How many customers moved from each RFM class on ``start`` to each on ``end``."""
    visible = policy.scope(Customer.objects.all(), actor).values("id")
    before = dict(
        ScoreSnapshot.objects.filter(as_of=start, customer_id__in=visible).values_list(
            "customer_id", "rfm_class"
        )
    )
    after = dict(
        ScoreSnapshot.objects.filter(as_of=end, customer_id__in=visible).values_list(
            "customer_id", "rfm_class"
        )
    )
    flows: dict[tuple[str, str], int] = {}
    for cid, cls in after.items():
        key = (before.get(cid) or "none", cls or "none")
        flows[key] = flows.get(key, 0) + 1
    return [{"from": a, "to": b, "n": n} for (a, b), n in sorted(flows.items())]


SEGMENT_FIELDS = ("rfm_class", "value_tier", "abc_class", "lifecycle_stage", "clv_class",
                  "matrix", "portfolio")


@dataclass
class SegmentFilter:
    rfm_class: str = ""
    value_tier: str = ""
    abc_class: str = ""
    lifecycle_stage: str = ""
    clv_class: str = ""
    matrix: str = ""
    portfolio: str = ""
    at_risk: bool = False
    cluster: int | None = None
    tag: str = ""


def _profile_filters(qs, f: SegmentFilter):
    """The customer group (cluster) and profile tag filters of a segment."""
    if f.cluster is not None:
        qs = qs.filter(cluster=f.cluster)
    if f.tag:
        # Tags are a JSON list of codes; matching the quoted code works on every database.
        qs = qs.filter(tags__icontains=f'"{f.tag}"')
    return qs


def segment(
    *,
    actor: Actor,
    f: SegmentFilter,
    as_of: dt.date | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ScoreSnapshot]:
    """The customers behind a chart (drill-down), with their scores, masked."""
    run = latest_run() if as_of is None else ModelRun.objects.filter(as_of=as_of).first()
    if run is None:
        return Page(items=[], next_cursor=None, count=0)
    qs = _snapshots(actor, run.as_of).select_related("customer")
    for name in SEGMENT_FIELDS:
        if getattr(f, name):
            qs = qs.filter(**{name: getattr(f, name)})
    qs = _profile_filters(qs, f)
    sort = Sort("id", False)
    if f.at_risk:
        qs = qs.filter(expected_loss__gt=0)
        sort = Sort("expected_loss", True)
    page = paginate(
        qs,
        sort,
        cursor=cursor,
        limit=max(1, min(limit or settings.LIST_PAGE_SIZE, 500)),
        count_limit=settings.LIST_COUNT_LIMIT,
    )
    policy.mask(actor, [s.customer for s in page.items])
    return page


def segment_rows(*, actor: Actor, f: SegmentFilter):
    """All rows of a segment for export: export scope on customers, masked, streamed."""
    run = latest_run()
    if run is None:
        return
    export_ids = policy.scope(policy.scope(Customer.objects.all(), actor), actor, "export").values(
        "id"
    )
    qs = ScoreSnapshot.objects.filter(as_of=run.as_of, customer_id__in=export_ids)
    for name in SEGMENT_FIELDS:
        if getattr(f, name):
            qs = qs.filter(**{name: getattr(f, name)})
    qs = _profile_filters(qs, f)
    last = 0
    while True:
        chunk = list(qs.filter(id__gt=last).select_related("customer").order_by("id")[:2000])
        if not chunk:
            return
        policy.mask(actor, [s.customer for s in chunk])
        yield from chunk
        last = chunk[-1].pk


def customer_scores(*, actor: Actor, customer_id: int, limit: int = 24) -> list[ScoreSnapshot]:
    """A customer's score history, newest first (NotFound outside the scope)."""
    require_visible(actor=actor, customer_id=customer_id)
    return list(
        ScoreSnapshot.objects.filter(customer_id=customer_id)
        .select_related("run")
        .order_by("-as_of")[:limit]
    )


def customer_costs(*, actor: Actor, customer_id: int) -> list[CostEntry]:
    require_visible(actor=actor, customer_id=customer_id)
    return list(CostEntry.objects.filter(customer_id=customer_id))


def cohort_retention(*, actor: Actor, months: int = 12) -> dict:
    """Share of each first-purchase month's customers who bought again in each later month."""
    from django.db.models.functions import TruncMonth

    from guanxi.sales.models import Order

    visible = policy.scope(Customer.objects.all(), actor).values("id")
    rows = (
        Order.objects.exclude(status="cancelled")
        .filter(customer_id__in=visible)
        .annotate(m=TruncMonth("ordered_at"))
        .order_by()
        .values("customer_id", "m")
        .distinct()
    )
    first: dict[int, dt.date] = {}
    active: dict[int, set] = {}
    for r in rows:
        m = r["m"].date() if isinstance(r["m"], dt.datetime) else r["m"]
        cid = r["customer_id"]
        active.setdefault(cid, set()).add(m)
        if cid not in first or m < first[cid]:
            first[cid] = m
    cohorts = sorted({m for m in first.values()})[-months:]
    table = []
    for c in cohorts:
        members = [cid for cid, m in first.items() if m == c]
        row = []
        for k in range(months):
            y, mo = divmod(c.month - 1 + k, 12)
            month = dt.date(c.year + y, mo + 1, 1)
            row.append(round(sum(1 for cid in members if month in active[cid]) / len(members), 3))
        table.append({"cohort": c.strftime("%Y-%m"), "size": len(members), "retention": row})
    return {"months": months, "rows": table}


def customer_also_bought(*, actor: Actor, customer_id: int, run: ModelRun, top: int = 5
                         ) -> list[dict]:
    """"Customers like this also bought": products ranked by the run's association rules
    whose left side the customer has bought (engine.profiles.also_bought), with their names.
    NotFound outside the scope."""
    import numpy as np

    from guanxi.analytics.engine.profiles import Rules, also_bought
    from guanxi.sales.models import OrderLine, Product

    require_visible(actor=actor, customer_id=customer_id)
    rules = (run.fits or {}).get("rules") or {}
    rows = rules.get("rules") or []
    if not rows:
        return []
    names = sorted({r["antecedent_name"] for r in rows} | {r["consequent_name"] for r in rows})
    code = {n: i for i, n in enumerate(names)}
    owned = set(
        OrderLine.objects.filter(order__customer_id=customer_id)
        .exclude(order__status="cancelled").exclude(sku="")
        .values_list("sku", flat=True).distinct()
    )
    owned_codes = [code[s] for s in owned if s in code]
    if not owned_codes:
        return []
    table = Rules(
        antecedent=np.array([code[r["antecedent_name"]] for r in rows], dtype=np.int64),
        consequent=np.array([code[r["consequent_name"]] for r in rows], dtype=np.int64),
        support=np.array([r["support"] for r in rows], dtype=np.float64),
        confidence=np.array([r["confidence"] for r in rows], dtype=np.float64),
        lift=np.array([r["lift"] for r in rows], dtype=np.float64),
        count=np.array([r["count"] for r in rows], dtype=np.int64),
        n_baskets=int(rules.get("n_baskets", 0)),
    )
    picks = also_bought(np.array(owned_codes, dtype=np.int64), table, top=top)
    skus = [names[i] for i, _ in picks]
    products = dict(Product.objects.filter(sku__in=skus).values_list("sku", "name"))
    return [{"sku": names[i], "name": products.get(names[i], ""), "score": score}
            for i, score in picks]


def product_names(skus: list[str]) -> dict[str, str]:
    """Product names by SKU (SKUs without a product are left out)."""
    from guanxi.sales.models import Product

    return dict(Product.objects.filter(sku__in=skus).values_list("sku", "name"))


# The refresh's reads ---------------------------------------------------------------------
# A refresh scores every customer, for every user: it reads without an actor. Its results
# reach users only through the scoped reads above.

def spend_by_day(*, before: dt.datetime, tz: dt.tzinfo) -> QuerySet:
    """(customer_id, day, spend in CNY) of the orders placed before ``before``, cancelled
    orders left out, one row per customer and local day."""
    from django.db.models.functions import TruncDate

    from guanxi.sales.models import Order

    return (Order.objects.exclude(status="cancelled")
            .filter(ordered_at__lt=before)
            .annotate(day=TruncDate("ordered_at", tzinfo=tz))
            .order_by()
            .values("customer_id", "day")
            .annotate(amount=Sum("total_cny"))
            .values_list("customer_id", "day", "amount"))


def returns_by_day(*, before: dt.datetime, tz: dt.tzinfo) -> QuerySet:
    """(customer_id, day, refunded in CNY) of the returns of those orders, by the returned
    order's customer and day."""
    from django.db.models import F
    from django.db.models.functions import TruncDate

    from guanxi.sales.models import OrderReturn

    return (OrderReturn.objects.exclude(order__status="cancelled")
            .filter(order__ordered_at__lt=before)
            .annotate(customer_id=F("order__customer_id"),
                      day=TruncDate("order__ordered_at", tzinfo=tz))
            .order_by()
            .values("customer_id", "day")
            .annotate(amount=Sum("amount_cny"))
            .values_list("customer_id", "day", "amount"))
