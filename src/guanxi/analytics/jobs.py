"""The analytics refresh: aggregate orders in SQL, run the engine, write dated snapshots.

1. One GROUP BY over orders (net of returns, cancelled orders excluded) gives each customer's
   spend per purchase day (local calendar); on PostgreSQL it streams with COPY.
2. The engine (no Django) computes RFM, ABC, value tiers, lifecycle stages and decline, the
   BG/NBD and Gamma-Gamma fits, P(alive), CLV, churn probability and expected loss.
3. Snapshots are bulk-written for the as-of date (a rerun for the same date replaces them, so a
   crashed run is simply run again: no duplicates, no gaps), and each customer's lifecycle
   stage is updated.
Progress goes to a ``core.JobRun``; the fitted parameters go as JSON into ``ModelRun``.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from guanxi.analytics import engine
from guanxi.analytics.engine.abc import abc_analysis, value_tiers
from guanxi.analytics.engine.bgnbd import fit_bgnbd
from guanxi.analytics.engine.clv import bgnbd_gamma_gamma_clv
from guanxi.analytics.engine.gammagamma import fit_gamma_gamma
from guanxi.analytics.engine.lifecycle import STAGES, lifecycle_stages
from guanxi.analytics.engine.rfm import RFM_CLASSES, rfm_analysis
from guanxi.analytics.engine.summary import clv_summary
from guanxi.analytics.engine.version import ENGINE_VERSION
from guanxi.analytics.models import ModelRun, ScoreSnapshot
from guanxi.core.models import JobRun
from guanxi.customers.models import Customer
from guanxi.sales.models import Opportunity, Order, OrderReturn

_ = engine


@dataclass(frozen=True)
class RefreshSettings:
    """What a refresh computes; defaults from the ANALYTICS_* settings."""

    rfm_window_days: int = 365
    horizon_weeks: int = 52
    discount_rate: float = 0.1  # a year; converted to the weekly rate
    abc_cuts: tuple[float, float] = (0.8, 0.95)
    tier_cuts: tuple[float, float, float] = (0.01, 0.05, 0.2)

    @classmethod
    def from_settings(cls) -> RefreshSettings:
        return cls(
            rfm_window_days=getattr(settings, "ANALYTICS_RFM_WINDOW_DAYS", 365),
            horizon_weeks=getattr(settings, "ANALYTICS_CLV_HORIZON_WEEKS", 52),
            discount_rate=getattr(settings, "ANALYTICS_DISCOUNT_RATE", 0.1),
        )


def transactions_frame(*, until: dt.date) -> pl.DataFrame:
    """customer_id, day (date), amount: net spend per customer and purchase day up to
    ``until`` (inclusive, in the configured time zone)."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    returns = (
        OrderReturn.objects.filter(order_id=OuterRef("pk"))
        .order_by()
        .values("order_id")
        .annotate(s=Sum("amount_cny"))
        .values("s")
    )
    money = DecimalField(max_digits=18, decimal_places=2)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    qs = (
        Order.objects.exclude(status="cancelled")
        .filter(ordered_at__lt=end)
        .annotate(
            net=F("total_cny")
            - Coalesce(
                Subquery(returns, output_field=money), Value(Decimal("0")), output_field=money
            ),
            day=TruncDate("ordered_at", tzinfo=tz),
        )
        .order_by()
        .values("customer_id", "day")
        .annotate(amount=Sum("net"))
        .filter(amount__gt=0)
        .values_list("customer_id", "day", "amount")
    )
    if connection.vendor == "postgresql":
        sql, params = qs.query.sql_with_params()
        buf = io.BytesIO()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT CSV)", params) as copy:
                for chunk in copy:
                    buf.write(chunk)
        buf.seek(0)
        if buf.getbuffer().nbytes == 0:
            return _empty()
        return pl.read_csv(
            buf,
            has_header=False,
            new_columns=["customer_id", "day", "amount"],
            schema_overrides={"customer_id": pl.Int64, "day": pl.Date, "amount": pl.Float64},
        )
    rows = list(qs.iterator(chunk_size=20000))
    if not rows:
        return _empty()
    ids, days, amounts = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "customer_id": np.asarray(ids, dtype=np.int64),
            "day": [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in days],
            "amount": np.asarray(amounts, dtype=np.float64),
        }
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": [], "day": [], "amount": []},
        schema={"customer_id": pl.Int64, "day": pl.Date, "amount": pl.Float64},
    )


def _progress(job: JobRun | None, step: str, done: int, total: int = 5) -> None:
    if job is not None:
        JobRun.objects.filter(pk=job.pk).update(
            cursor=step,
            done=done,
            total=total,
            status=JobRun.Status.RUNNING,
            updated_at=timezone.now(),
        )


def refresh(
    *,
    as_of: dt.date | None = None,
    job: JobRun | None = None,
    config: RefreshSettings | None = None,
    batch_size: int = 5000,
) -> ModelRun:
    """Recompute every customer's scores as of ``as_of`` (default today)."""
    as_of = as_of or timezone.localdate()
    config = config or RefreshSettings.from_settings()
    run = ModelRun.objects.create(
        as_of=as_of,
        engine_version=ENGINE_VERSION,
        job=job,
        params={
            "rfm_window_days": config.rfm_window_days,
            "horizon_weeks": config.horizon_weeks,
            "discount_rate": config.discount_rate,
            "abc_cuts": list(config.abc_cuts),
            "tier_cuts": list(config.tier_cuts),
        },
    )
    try:
        _progress(job, "aggregate", 0)
        frame = transactions_frame(until=as_of)
        _progress(job, "score", 1)
        rows, fits, summary = _score(frame, as_of, config)
        _progress(job, "write", 3)
        _write(run, as_of, rows, batch_size)
        run.fits, run.summary, run.n_customers = _json_safe(fits), _json_safe(summary), len(rows)
        run.status, run.finished_at = ModelRun.Status.DONE, timezone.now()
        run.save(update_fields=["fits", "summary", "n_customers", "status", "finished_at"])
        ModelRun.objects.filter(as_of=as_of).exclude(pk=run.pk).delete()
        _progress(job, "done", 5)
    except Exception:
        ModelRun.objects.filter(pk=run.pk).update(
            status=ModelRun.Status.FAILED, finished_at=timezone.now()
        )
        raise
    return run


def _score(
    frame: pl.DataFrame, as_of: dt.date, config: RefreshSettings
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    ids_all = np.asarray(
        Customer.objects.order_by("id").values_list("id", flat=True), dtype=np.int64
    )
    out: dict[int, dict[str, Any]] = {int(i): {} for i in ids_all}
    fits: dict[str, Any] = {}
    summary: dict[str, Any] = {"customers": len(ids_all), "buyers": 0}
    if frame.height:
        cust_ids = frame["customer_id"].to_numpy()
        uniq, codes = np.unique(cust_ids, return_inverse=True)
        days = frame["day"].cast(pl.Int32).to_numpy().astype(np.int32)  # days since 1970
        amounts = frame["amount"].to_numpy()
        n = len(uniq)
        summary["buyers"] = int(n)
        rfm = rfm_analysis(
            codes, days, amounts, as_of=as_of, window_days=config.rfm_window_days, n_customers=n
        )
        m = rfm.monetary
        abc = abc_analysis(m, cuts=config.abc_cuts)
        tiers = value_tiers(m, cuts=config.tier_cuts)
        abc_labels, tier_codes = abc.labels(), tiers.codes()
        for k, code in enumerate(rfm.customer):
            cid = int(uniq[code])
            out[cid].update(
                recency_days=int(rfm.recency_days[k]),
                frequency=int(rfm.frequency[k]),
                monetary=float(m[k]),
                r_score=int(rfm.r_score[k]),
                f_score=int(rfm.f_score[k]),
                m_score=int(rfm.m_score[k]),
                rfm_class=RFM_CLASSES[int(rfm.class_index[k])].code,
                abc_class=str(abc_labels[k]),
                value_tier=str(tier_codes[k]),
            )
        summary["rfm_means"] = {"r": rfm.r_mean, "f": rfm.f_mean, "m": rfm.m_mean}
        life = lifecycle_stages(codes, days, amounts, as_of=as_of, n_customers=n)
        stage_codes = life.stage_codes()
        for k, code in enumerate(life.customer):
            out[int(uniq[code])].update(
                lifecycle_stage=str(stage_codes[k]), declining=bool(life.declining[k])
            )
        clv_part = _clv(codes, days, amounts, as_of, config, n)
        if clv_part is not None:
            s, fit_b, fit_g, clv = clv_part
            fits = {"bgnbd": fit_b.to_dict(), "gamma_gamma": fit_g.to_dict() if fit_g else None}
            for k, code in enumerate(s.customer):
                p_alive = float(clv.p_alive[k])
                value = float(clv.clv[k])
                churn = 1.0 - p_alive
                out[int(uniq[code])].update(
                    p_alive=p_alive,
                    expected_purchases=float(clv.expected_purchases[k]),
                    expected_spend=float(clv.expected_spend[k]),
                    clv=value,
                    churn_probability=churn,
                    expected_loss=churn * max(value, 0.0),
                    reasons=_reasons(out[int(uniq[code])], p_alive),
                )
        churn = _churn(codes, days, amounts, as_of, n)
        if churn is not None:
            fits["churn"] = churn.to_dict()
            for k, code in enumerate(churn.customer):
                row = out[int(uniq[code])]
                prob = float(churn.probability[k])
                row["churn_probability"] = prob
                row["expected_loss"] = prob * max(row.get("clv") or 0.0, 0.0)
                row["reasons"] = churn.reasons[k] or row.get("reasons", [])
    _segments(out, as_of, config)
    _prospects(out)
    rows = [{"customer_id": cid, **vals} for cid, vals in out.items()]
    summary["rfm_classes"] = _count(rows, "rfm_class")
    summary["stages"] = _count(rows, "lifecycle_stage")
    return rows, fits, summary


def _clv(codes, days, amounts, as_of, config, n):
    s = clv_summary(codes, days, amounts, calibration_end=as_of, period="week", n_customers=n)
    if s.n < 10 or int((s.x > 0).sum()) < 5:
        return None
    fit_b = fit_bgnbd(s.x, s.t_x, s.T)
    repeat = s.x > 0
    fit_g = fit_gamma_gamma(s.x[repeat], s.monetary[repeat])
    weekly = (1 + config.discount_rate) ** (1 / 52) - 1
    clv = bgnbd_gamma_gamma_clv(
        fit_b,
        fit_g,
        s.x,
        s.t_x,
        s.T,
        s.monetary,
        horizon_periods=config.horizon_weeks,
        discount_rate=weekly,
    )
    return s, fit_b, fit_g, clv


def _segments(out: dict[int, dict[str, Any]], as_of: dt.date, config: RefreshSettings
              ) -> None:
    """Cost to serve in the RFM window's years, profit, CLV class, the value × cost matrix
    and the relationship portfolio, for customers who bought (engine.segments)."""
    from django.db.models import Sum as _Sum

    from guanxi.analytics.engine.segments import (
        clv_classes,
        customer_matrix,
        relationship_portfolio,
    )
    from guanxi.analytics.models import CostEntry

    first_year = (as_of - dt.timedelta(days=config.rfm_window_days)).year
    costs = dict(CostEntry.objects.filter(year__gte=first_year, year__lte=as_of.year)
                 .order_by().values("customer_id").annotate(s=_Sum("amount"))
                 .values_list("customer_id", "s"))
    buyers = [cid for cid, v in out.items() if "monetary" in v]
    if not buyers:
        return
    monetary = np.array([out[c]["monetary"] for c in buyers])
    cost = np.array([float(costs.get(c, 0) or 0) for c in buyers])
    clv = np.array([out[c].get("clv", np.nan) for c in buyers], dtype=np.float64)
    profit = monetary - cost
    loyal = np.array([out[c].get("lifecycle_stage") in ("loyal", "repeat")
                      and not out[c].get("declining") for c in buyers])
    klass = clv_classes(monetary, clv, profit)
    quadrant = customer_matrix(monetary, cost)
    portfolio = relationship_portfolio(profit, loyal)
    vk = _vk(out, buyers, as_of, config)
    for k, c in enumerate(buyers):
        out[c]["vk"] = vk.get(c)
        out[c].update(cost_to_serve=float(cost[k]), profit=float(profit[k]),
                      clv_class=str(klass[k]), matrix=str(quadrant[k]),
                      portfolio=str(portfolio[k]))


def _vk(out: dict[int, dict[str, Any]], buyers: list[int], as_of: dt.date,
        config: RefreshSettings) -> dict[int, float]:
    """VK = sum_t (Q_t - C_t) / (1 + i)^t over the years of each relationship, t = 0 in the
    year of the first order (DOMAIN.md section 4): yearly order value less the cost to serve
    posted for that year."""
    from django.db.models import Sum as _Sum

    from guanxi.analytics.engine.clv import discounted_value
    from guanxi.analytics.models import CostEntry

    spend = _yearly_spend()
    costs: dict[tuple[int, int], float] = {
        (r["customer_id"], r["year"]): float(r["s"]) for r in CostEntry.objects.filter(
            year__lte=as_of.year).order_by().values("customer_id", "year").annotate(
            s=_Sum("amount"))}
    firsts: dict[int, int] = {}
    for (cid, year) in spend:
        firsts[cid] = min(year, firsts.get(cid, year))
    width = max((as_of.year - y for y in firsts.values()), default=0) + 1
    q = np.zeros((len(buyers), width))
    c = np.zeros((len(buyers), width))
    for k, cid in enumerate(buyers):
        start = firsts.get(cid, as_of.year)
        for t in range(as_of.year - start + 1):
            q[k, t] = spend.get((cid, start + t), 0.0)
            c[k, t] = costs.get((cid, start + t), 0.0)
    values = np.atleast_1d(discounted_value(q, c, discount_rate=config.discount_rate))
    return {cid: float(values[k]) for k, cid in enumerate(buyers)}


def _yearly_spend() -> dict[tuple[int, int], float]:
    import zoneinfo as _zi

    from django.db.models import Sum as _Sum
    from django.db.models.functions import ExtractYear

    tz = _zi.ZoneInfo(settings.TIME_ZONE)
    rows = (Order.objects.exclude(status="cancelled")
            .annotate(y=ExtractYear("ordered_at", tzinfo=tz)).order_by()
            .values("customer_id", "y").annotate(s=_Sum("total_cny")))
    return {(r["customer_id"], r["y"]): float(r["s"]) for r in rows}


def _churn(codes, days, amounts, as_of, n):
    """The learned early-warning model; None (baseline 1 - P(alive) stays) when the history
    is too short to train and evaluate it."""
    from guanxi.analytics.engine.churn_model import churn_model
    from guanxi.analytics.engine.errors import InputError

    horizon = getattr(settings, "ANALYTICS_CHURN_HORIZON_DAYS", 90)
    try:
        return churn_model(codes, days, amounts, as_of=as_of, horizon_days=horizon,
                           n_customers=n)
    except InputError:
        return None


def _reasons(row: dict[str, Any], p_alive: float) -> list[str]:
    """Plain reasons behind a churn risk, most telling first."""
    out = []
    if row.get("recency_days") is not None and row.get("r_score", 5) <= 2:
        out.append(f"no purchase for {row['recency_days']} days")
    if row.get("declining"):
        out.append("buying less often or less than before")
    if p_alive < 0.5:
        out.append(f"P(still active) {p_alive:.0%} from the purchase pattern")
    if row.get("f_score", 5) <= 2:
        out.append("few purchases")
    return out


def _prospects(out: dict[int, dict[str, Any]]) -> None:
    """Customers without purchases: prospect with an open opportunity, else suspect."""
    no_orders = [cid for cid, vals in out.items() if "lifecycle_stage" not in vals]
    with_opp = (
        set(
            Opportunity.objects.filter(customer_id__in=no_orders, status="open").values_list(
                "customer_id", flat=True
            )
        )
        if no_orders
        else set()
    )
    for cid in no_orders:
        out[cid]["lifecycle_stage"] = "prospect" if cid in with_opp else "suspect"


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def _count(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        v = r.get(key) or ""
        counts[v] = counts.get(v, 0) + 1
    return counts


def _num(value: float | None) -> float | None:
    """A finite float or None (NaN cannot be stored in every database)."""
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def _money(value: float | None) -> Decimal | None:
    if value is None or not np.isfinite(value):
        return None
    return Decimal(repr(round(value, 2)))


def _write(run: ModelRun, as_of: dt.date, rows: list[dict[str, Any]], batch_size: int) -> None:
    ScoreSnapshot.objects.filter(as_of=as_of).exclude(run=run).delete()
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        with transaction.atomic():
            ScoreSnapshot.objects.bulk_create(
                [
                    ScoreSnapshot(
                        run=run,
                        customer_id=r["customer_id"],
                        as_of=as_of,
                        recency_days=r.get("recency_days"),
                        frequency=r.get("frequency", 0),
                        monetary=_money(r.get("monetary", 0.0)) or Decimal("0"),
                        r_score=r.get("r_score"),
                        f_score=r.get("f_score"),
                        m_score=r.get("m_score"),
                        rfm_class=r.get("rfm_class", ""),
                        abc_class=r.get("abc_class", ""),
                        value_tier=r.get("value_tier", ""),
                        lifecycle_stage=r.get("lifecycle_stage", ""),
                        declining=r.get("declining", False),
                        p_alive=_num(r.get("p_alive")),
                        expected_purchases=_num(r.get("expected_purchases")),
                        expected_spend=_money(r.get("expected_spend")),
                        clv=_money(r.get("clv")),
                        churn_probability=_num(r.get("churn_probability")),
                        expected_loss=_money(r.get("expected_loss")),
                        vk=_money(r.get("vk")),
                        cost_to_serve=_money(r.get("cost_to_serve", 0.0)) or Decimal("0"),
                        profit=_money(r.get("profit", 0.0)) or Decimal("0"),
                        clv_class=r.get("clv_class", ""), matrix=r.get("matrix", ""),
                        portfolio=r.get("portfolio", ""),
                        reasons=r.get("reasons", []),
                    )
                    for r in chunk
                ]
            )
    by_stage: dict[str, list[int]] = {}
    for r in rows:
        by_stage.setdefault(r.get("lifecycle_stage", "suspect"), []).append(r["customer_id"])
    valid = {s.code for s in STAGES} | {"suspect", "prospect"}
    for stage, ids in by_stage.items():
        if stage not in valid:
            continue
        for start in range(0, len(ids), 5000):
            Customer.objects.filter(id__in=ids[start : start + 5000]).exclude(
                lifecycle_stage=stage
            ).update(lifecycle_stage=stage)
