"""The analytics refresh: aggregate orders in SQL, run the engine, write dated snapshots.

1. One GROUP BY over orders (net of returns, cancelled orders excluded) gives each customer's
   spend per purchase day (local calendar); on PostgreSQL it streams with COPY.
2. The engine (no Django) computes RFM, ABC, value tiers, lifecycle stages and decline, the
   BG/NBD and Gamma-Gamma fits, P(alive), CLV, churn probability and expected loss. Results
   are kept as numpy columns indexed by the customer's position (customers ordered by id).
3. Snapshots are written for the as-of date (a rerun for the same date replaces them, so a
   crashed run is simply run again: no duplicates, no gaps), and each customer's lifecycle
   stage is updated. On PostgreSQL both go through COPY (the stages into a temporary table
   joined by one UPDATE); other databases use bulk_create and batched UPDATEs.
Progress goes to a ``core.JobRun``; the fitted parameters go as JSON into ``ModelRun``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from numpy.typing import NDArray

from guanxi.analytics import engine, partitions, queries
from guanxi.analytics.engine.abc import abc_analysis, value_tiers
from guanxi.analytics.engine.bgnbd import fit_bgnbd
from guanxi.analytics.engine.clv import bgnbd_gamma_gamma_clv, discounted_value
from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.gammagamma import fit_gamma_gamma
from guanxi.analytics.engine.groups import daily_log
from guanxi.analytics.engine.intent import change_for, model_clv_with_intent
from guanxi.analytics.engine.lifecycle import STAGES, lifecycle_stages
from guanxi.analytics.engine.profiles import (
    TAGS,
    association_rules,
    cluster_customers,
    profile_tags,
)
from guanxi.analytics.engine.rfm import RFM_CLASSES, rfm_analysis
from guanxi.analytics.engine.segments import (
    clv_classes,
    customer_matrix,
    relationship_portfolio,
)
from guanxi.analytics.engine.summary import clv_summary
from guanxi.analytics.models import CostEntry, ModelRun, ScoreSnapshot
from guanxi.core.models import JobRun
from guanxi.customers.models import Customer
from guanxi.sales.models import Opportunity, Order, OrderLine

_ = engine

#: Weeks over which a stated change in buying is reached ("gradually", source 003 §6.2.2).
INTENT_RAMP_WEEKS = 13

#: Association rules: the least share of orders a SKU (and a pair) must be in, and how many of
#: the strongest rules a run keeps.
RULES_MIN_SUPPORT = 0.001
RULES_MAX = 200

#: Rows per COPY chunk (CSV rendered by polars, then streamed to the server).
COPY_CHUNK = 200_000


@dataclass(frozen=True)
class RefreshSettings:
    """What a refresh computes; defaults from the ANALYTICS_* settings."""

    rfm_window_days: int = 365
    horizon_weeks: int = 52
    discount_rate: float = 0.1  # a year; converted to the weekly rate
    abc_cuts: tuple[float, float] = (0.8, 0.95)
    tier_cuts: tuple[float, float, float] = (0.01, 0.05, 0.2)
    rules_window_days: int = 90  # association rules: the orders of the last quarter

    @classmethod
    def from_settings(cls) -> RefreshSettings:
        return cls(
            rfm_window_days=getattr(settings, "ANALYTICS_RFM_WINDOW_DAYS", 365),
            horizon_weeks=getattr(settings, "ANALYTICS_CLV_HORIZON_WEEKS", 52),
            discount_rate=getattr(settings, "ANALYTICS_DISCOUNT_RATE", 0.1),
            rules_window_days=getattr(settings, "ANALYTICS_RULES_WINDOW_DAYS", 90),
        )


def _query_frame(qs, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of a ``values_list`` query as a DataFrame with ``schema`` (column name to
    polars type, in the query's column order); streamed with COPY on PostgreSQL."""
    names = list(schema)
    if connection.vendor == "postgresql":
        sql, params = qs.query.sql_with_params()
        buf = io.BytesIO()
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT CSV)", params) as copy:
                for chunk in copy:
                    buf.write(chunk)
        if buf.getbuffer().nbytes == 0:
            return pl.DataFrame(schema=schema)
        buf.seek(0)
        return pl.read_csv(buf, has_header=False, new_columns=names, schema_overrides=schema)
    rows = list(qs.iterator(chunk_size=20000))
    if not rows:
        return pl.DataFrame(schema=schema)
    cols = list(zip(*rows, strict=True))
    data: dict[str, Any] = {}
    for name, values in zip(names, cols, strict=True):
        kind = schema[name]
        if kind == pl.Date:
            data[name] = [
                v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
                for v in values
            ]
        elif kind == pl.Float64:
            data[name] = np.asarray([np.nan if v is None else float(v) for v in values],
                                    dtype=np.float64)
        elif kind == pl.String:
            data[name] = list(values)
        else:
            data[name] = np.asarray(values, dtype=np.int64)
    return pl.DataFrame(data, schema=schema)


def transactions_frame(*, until: dt.date) -> pl.DataFrame:
    """customer_id, day (date), amount: net spend per customer and purchase day up to
    ``until`` (inclusive, in the configured time zone).

    Two plain GROUP BYs, one over the orders and one over their returns (by the returned
    order's customer and day), netted here: a return subquery per order would be evaluated
    once for each of millions of orders. Cancelled orders and their returns are left out; a
    day whose returns cancel its spend is no purchase day.
    """
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    schema = {"customer_id": pl.Int64, "day": pl.Date, "amount": pl.Float64}
    spend = _query_frame(queries.spend_by_day(before=end, tz=tz), schema)
    returned = _query_frame(queries.returns_by_day(before=end, tz=tz), schema)
    if returned.height:
        spend = (
            spend.join(returned.rename({"amount": "returned"}), on=["customer_id", "day"],
                       how="left")
            .with_columns((pl.col("amount") - pl.col("returned").fill_null(0.0)).round(2)
                          .alias("amount"))
            .drop("returned")
        )
    return spend.filter(pl.col("amount") > 0)


@dataclass
class Scores:
    """Every customer's results as columns, one entry per customer in id order. Missing
    values are NaN (floats) or flagged by ``has_rfm`` / ``has_clv`` (integers)."""

    ids: NDArray[np.int64]
    has_rfm: NDArray[np.bool_] = field(init=False)
    recency_days: NDArray[np.int64] = field(init=False)
    frequency: NDArray[np.int64] = field(init=False)
    monetary: NDArray[np.float64] = field(init=False)
    r_score: NDArray[np.int64] = field(init=False)
    f_score: NDArray[np.int64] = field(init=False)
    m_score: NDArray[np.int64] = field(init=False)
    rfm_class: NDArray[np.str_] = field(init=False)
    abc_class: NDArray[np.str_] = field(init=False)
    value_tier: NDArray[np.str_] = field(init=False)
    lifecycle_stage: NDArray[np.str_] = field(init=False)
    declining: NDArray[np.bool_] = field(init=False)
    has_clv: NDArray[np.bool_] = field(init=False)
    p_alive: NDArray[np.float64] = field(init=False)
    expected_purchases: NDArray[np.float64] = field(init=False)
    expected_spend: NDArray[np.float64] = field(init=False)
    clv: NDArray[np.float64] = field(init=False)
    clv_intent: NDArray[np.float64] = field(init=False)
    churn_probability: NDArray[np.float64] = field(init=False)
    expected_loss: NDArray[np.float64] = field(init=False)
    vk: NDArray[np.float64] = field(init=False)
    cost_to_serve: NDArray[np.float64] = field(init=False)
    profit: NDArray[np.float64] = field(init=False)
    clv_class: NDArray[np.str_] = field(init=False)
    matrix: NDArray[np.str_] = field(init=False)
    portfolio: NDArray[np.str_] = field(init=False)
    reasons: pl.Series = field(init=False)  # JSON text per customer
    tenure_days: NDArray[np.float64] = field(init=False)  # since the first purchase; NaN: none
    days_since_last: NDArray[np.float64] = field(init=False)  # since the last purchase; NaN: none
    tags: pl.Series = field(init=False)  # JSON text per customer (engine.profiles tag codes)
    cluster: NDArray[np.int64] = field(init=False)  # -1: not clustered

    def __post_init__(self) -> None:
        n = len(self.ids)
        nan = np.full(n, np.nan)
        self.has_rfm = np.zeros(n, dtype=bool)
        self.recency_days = np.zeros(n, dtype=np.int64)
        self.frequency = np.zeros(n, dtype=np.int64)
        self.monetary = np.zeros(n)
        self.r_score = np.full(n, 5, dtype=np.int64)  # 5: no low-score reason without RFM
        self.f_score = np.full(n, 5, dtype=np.int64)
        self.m_score = np.zeros(n, dtype=np.int64)
        self.rfm_class = np.full(n, "", dtype="<U30")
        self.abc_class = np.full(n, "", dtype="<U1")
        self.value_tier = np.full(n, "", dtype="<U10")
        self.lifecycle_stage = np.full(n, "", dtype="<U12")
        self.declining = np.zeros(n, dtype=bool)
        self.has_clv = np.zeros(n, dtype=bool)
        for name in ("p_alive", "expected_purchases", "expected_spend", "clv", "clv_intent",
                     "churn_probability", "expected_loss", "vk"):
            setattr(self, name, nan.copy())
        self.cost_to_serve = np.zeros(n)
        self.profit = np.zeros(n)
        self.clv_class = np.full(n, "", dtype="<U12")
        self.matrix = np.full(n, "", dtype="<U3")
        self.portfolio = np.full(n, "", dtype="<U12")
        self.reasons = pl.repeat("[]", n, dtype=pl.String, eager=True).alias("reasons")
        self.tenure_days = nan.copy()
        self.days_since_last = nan.copy()
        self.tags = pl.repeat("[]", n, dtype=pl.String, eager=True).alias("tags")
        self.cluster = np.full(n, -1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)


def refresh(
    *,
    as_of: dt.date | None = None,
    job: JobRun | None = None,
    config: RefreshSettings | None = None,
    batch_size: int = 5000,
) -> ModelRun:
    """Recompute every customer's scores as of ``as_of`` (default today)."""
    from guanxi.analytics import services  # services imports this module

    as_of = as_of or timezone.localdate()
    config = config or RefreshSettings.from_settings()
    run = services.run_open(as_of=as_of, job=job, params={
        "rfm_window_days": config.rfm_window_days,
        "horizon_weeks": config.horizon_weeks,
        "discount_rate": config.discount_rate,
        "abc_cuts": list(config.abc_cuts),
        "tier_cuts": list(config.tier_cuts),
        "rules_window_days": config.rules_window_days,
    })
    try:
        services.refresh_progress(job=job, step="aggregate", done=0)
        frame = transactions_frame(until=as_of)
        services.refresh_progress(job=job, step="score", done=1)
        scores, fits, summary = _score(frame, as_of, config)
        del frame
        services.refresh_progress(job=job, step="write", done=3)
        _write(run, as_of, scores, batch_size)
        del scores
        services.refresh_progress(job=job, step="rules", done=4)
        rules = product_rules(as_of=as_of, window_days=config.rules_window_days)
        if rules is not None:
            fits["rules"] = rules
        services.run_close(run=run, fits=_json_safe(fits), summary=_json_safe(summary))
        services.snapshots_prune(written=as_of)
        services.refresh_progress(job=job, step="done", done=5)
    except Exception:
        services.run_failed(run=run)
        raise
    return run


def _customer_ids() -> NDArray[np.int64]:
    qs = Customer.objects.order_by("id").values_list("id")
    return _query_frame(qs, {"id": pl.Int64})["id"].to_numpy().astype(np.int64)


def _score(
    frame: pl.DataFrame, as_of: dt.date, config: RefreshSettings
) -> tuple[Scores, dict[str, Any], dict[str, Any]]:
    out = Scores(_customer_ids())
    fits: dict[str, Any] = {}
    summary: dict[str, Any] = {"customers": len(out), "buyers": 0}
    if frame.height:
        # One row per customer and day, ordered: every engine pass below then takes its
        # single-pass path.
        uniq, codes, days, amounts = daily_log(
            frame["customer_id"].to_numpy(),
            frame["day"].cast(pl.Int32).to_numpy(),  # days since 1970
            frame["amount"].to_numpy(),
        )
        del frame
        n = len(uniq)
        summary["buyers"] = int(n)
        # Position of each buyer code among all customers (every buyer is a customer).
        pos = np.searchsorted(out.ids, uniq)
        rfm = rfm_analysis(
            codes, days, amounts, as_of=as_of, window_days=config.rfm_window_days, n_customers=n
        )
        m = rfm.monetary
        abc = abc_analysis(m, cuts=config.abc_cuts)
        tiers = value_tiers(m, cuts=config.tier_cuts)
        p = pos[rfm.customer]
        out.has_rfm[p] = True
        out.recency_days[p] = rfm.recency_days
        out.frequency[p] = rfm.frequency
        out.monetary[p] = m
        out.r_score[p] = rfm.r_score
        out.f_score[p] = rfm.f_score
        out.m_score[p] = rfm.m_score
        class_codes = np.array([c.code for c in RFM_CLASSES])
        out.rfm_class[p] = class_codes[np.asarray(rfm.class_index, dtype=np.int64)]
        out.abc_class[p] = abc.labels()
        out.value_tier[p] = tiers.codes()
        summary["rfm_means"] = {"r": rfm.r_mean, "f": rfm.f_mean, "m": rfm.m_mean}
        first_rows = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        last_rows = np.r_[first_rows[1:] - 1, len(codes) - 1]
        out.tenure_days[pos[codes[first_rows]]] = day_number(as_of) - days[first_rows]
        out.days_since_last[pos[codes[last_rows]]] = day_number(as_of) - days[last_rows]
        life = lifecycle_stages(codes, days, amounts, as_of=as_of, n_customers=n)
        p = pos[life.customer]
        out.lifecycle_stage[p] = life.stage_codes()
        out.declining[p] = life.declining
        clv_part = _clv(codes, days, amounts, as_of, config, n)
        if clv_part is not None:
            s, fit_b, fit_g, clv = clv_part
            fits = {"bgnbd": fit_b.to_dict(), "gamma_gamma": fit_g.to_dict() if fit_g else None}
            p = pos[s.customer]
            p_alive = np.asarray(clv.p_alive, dtype=np.float64)
            value = np.asarray(clv.clv, dtype=np.float64)
            churn = 1.0 - p_alive
            out.has_clv[p] = True
            out.p_alive[p] = p_alive
            out.expected_purchases[p] = clv.expected_purchases
            out.expected_spend[p] = clv.expected_spend
            out.clv[p] = value
            out.churn_probability[p] = churn
            out.expected_loss[p] = churn * _max0(value)
            out.reasons = out.reasons.scatter(p, _reasons(out, p, p_alive))
            out.clv_intent[p] = value
            _stated_intent(out, s, fit_b, fit_g, pos, as_of, config)
        churn_fit = _churn(codes, days, amounts, as_of, n)
        if churn_fit is not None:
            fits["churn"] = churn_fit.to_dict()
            p = pos[churn_fit.customer]
            prob = np.asarray(churn_fit.probability, dtype=np.float64)
            out.churn_probability[p] = prob
            # ``clv or 0.0``: no CLV (or a zero one) counts as zero, NaN stays NaN.
            clv_or_zero = np.where(out.has_clv[p], out.clv[p], 0.0)
            out.expected_loss[p] = prob * _max0(clv_or_zero)
            learned = _reason_json(churn_fit.reason_index, churn_fit.reason_texts)
            keep = learned != "[]"
            out.reasons = out.reasons.scatter(p[keep.to_numpy()], learned.filter(keep))
        del codes, days, amounts
    _open_pipeline(out, as_of, config)
    _segments(out, as_of, config)
    _prospects(out)
    clusters = _profiles(out)
    if clusters is not None:
        fits["clusters"] = clusters.to_dict()
    summary["rfm_classes"] = _count(out.rfm_class)
    summary["stages"] = _count(out.lifecycle_stage)
    return out, fits, summary


def _max0(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``max(v, 0.0)`` elementwise, NaN kept (as Python's max keeps it)."""
    return np.where(values < 0.0, 0.0, values)


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


def _stated_intent(out: Scores, s, fit_b, fit_g, pos: NDArray[np.int64], as_of: dt.date,
                   config: RefreshSettings) -> None:
    """CLV with stated intent (engine.intent) for the customers who stated one: their model
    CLV with the purchases from the intent's start scaled by the change they expect."""
    stated = _query_frame(
        Customer.objects.exclude(purchase_intent="").order_by("id")
        .values_list("id", "purchase_intent", "intent_change_pct", "intent_from"),
        {"id": pl.Int64, "intent": pl.String, "pct": pl.Float64, "start": pl.Date},
    )
    if not stated.height:
        return
    # Rows of the summary (s.customer are buyer codes; pos maps them to customer positions).
    where = np.full(len(out), -1, dtype=np.int64)
    where[pos[s.customer]] = np.arange(s.n)
    k, found = _positions(out.ids, stated["id"].to_numpy())
    rows = np.where(found, where[k], -1)
    keep = rows >= 0
    if not keep.any():
        return
    rows = rows[keep]
    stated = stated.filter(pl.Series(keep))
    change = np.array([change_for(i, None if c is None or np.isnan(c) else c)
                       for i, c in stated.select("intent", "pct").iter_rows()])
    weeks = stated.select(
        ((pl.col("start") - pl.lit(as_of)).dt.total_days().clip(lower_bound=0).fill_null(0)
         / 7.0).alias("w"))["w"].to_numpy()
    weekly = (1 + config.discount_rate) ** (1 / 52) - 1
    value = model_clv_with_intent(
        fit_b, fit_g, s.x[rows], s.t_x[rows], s.T[rows], s.monetary[rows], change, weeks,
        horizon_periods=config.horizon_weeks, discount_rate=weekly,
        ramp_periods=INTENT_RAMP_WEEKS)
    out.clv_intent[pos[s.customer[rows]]] = value


def _open_pipeline(out: Scores, as_of: dt.date, config: RefreshSettings) -> None:
    """Add each customer's open opportunities to their CLV with intent: amount in CNY times
    the win probability (the opportunity's own, else its stage's), discounted from the
    expected close (now, when it has passed or is not set); only deals expected to close
    within the CLV horizon."""
    opps = _query_frame(
        Opportunity.objects.filter(status="open").order_by()
        .annotate(p=Coalesce("probability", "stage__probability"))
        .values_list("customer_id", "amount_cny", "p", "expected_close"),
        {"customer_id": pl.Int64, "amount": pl.Float64, "p": pl.Float64, "close": pl.Date},
    )
    if not opps.height:
        return
    horizon_end = as_of + dt.timedelta(weeks=config.horizon_weeks)
    opps = opps.with_columns(
        pl.col("close").fill_null(as_of).clip(lower_bound=as_of).alias("close"),
        pl.col("p").fill_null(0.0).alias("p"),
    ).filter(pl.col("close") <= horizon_end)
    weekly = (1 + config.discount_rate) ** (1 / 52) - 1
    weeks = opps.select((pl.col("close") - pl.lit(as_of)).dt.total_days())["close"].to_numpy() / 7.0
    value = (np.nan_to_num(opps["amount"].to_numpy()) * opps["p"].to_numpy()
             / (1 + weekly) ** weeks)
    k, found = _positions(out.ids, opps["customer_id"].to_numpy())
    pipeline = np.zeros(len(out))
    np.add.at(pipeline, k[found], value[found])
    has = pipeline > 0
    out.clv_intent[has] = np.nan_to_num(out.clv_intent[has], nan=0.0) + pipeline[has]


def product_rules(*, as_of: dt.date, window_days: int) -> dict | None:
    """Association rules between the SKUs bought in one order, over the orders of the
    ``window_days`` days up to ``as_of`` (engine.profiles.association_rules), as JSON."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    start = end - dt.timedelta(days=window_days)
    lines = _query_frame(
        OrderLine.objects.exclude(order__status="cancelled").exclude(sku="")
        .filter(order__ordered_at__gte=start, order__ordered_at__lt=end)
        .order_by().values_list("order_id", "sku"),
        {"order_id": pl.Int64, "sku": pl.String},
    )
    if lines.height == 0:
        return None
    # Baskets in order (the engine then needs no unique pass); SKUs as their dense rank, so
    # code i names the i-th SKU in sorted order.
    lines = lines.sort("order_id")
    names = lines["sku"].unique().sort().to_list()
    item = (lines["sku"].rank("dense").cast(pl.Int64) - 1).to_numpy()
    rules = association_rules(lines["order_id"].to_numpy(), item,
                              min_support=RULES_MIN_SUPPORT, max_rules=RULES_MAX)
    return rules.to_dict(item_names=names)


def _profiles(out: Scores):
    """Rule-based tags for every customer and clusters of the buyers (engine.profiles); the
    clusters' centres and descriptions go with the run's fits."""
    matrix = profile_tags(
        recency_days=out.days_since_last, frequency=out.frequency, monetary=out.monetary,
        tenure_days=out.tenure_days, value_tier=out.value_tier,
        lifecycle_stage=out.lifecycle_stage, declining=out.declining,
        churn_probability=out.churn_probability, clv=out.clv, clv_intent=out.clv_intent)
    out.tags = _code_json(matrix, tuple(t.code for t in TAGS))
    buyers = np.flatnonzero(np.isfinite(out.tenure_days))
    if len(buyers) < 50:
        return None
    try:
        clusters = cluster_customers({
            "recency_days": out.days_since_last[buyers],
            "frequency": out.frequency[buyers].astype(np.float64),
            "monetary": out.monetary[buyers],
            "tenure_days": out.tenure_days[buyers],
        }, seed=0)
    except InputError:
        return None
    out.cluster[buyers] = clusters.labels
    return clusters


def _code_json(flags: NDArray[np.bool_], codes: tuple[str, ...]) -> pl.Series:
    """Rows of a boolean matrix as JSON lists of the codes whose column is set, each distinct
    row encoded once."""
    if flags.size == 0:
        return pl.Series("tags", ["[]"] * len(flags), dtype=pl.String)
    # Each row as one integer (bit j = column j): a 1-D unique instead of a row-wise one.
    keys = flags.astype(np.int64) @ (np.int64(1) << np.arange(flags.shape[1], dtype=np.int64))
    values, inverse = np.unique(keys, return_inverse=True)
    encoded = pl.Series("tags", [json.dumps([codes[j] for j in range(len(codes)) if v >> j & 1])
                                 for v in values.tolist()], dtype=pl.String)
    return encoded.gather(inverse.reshape(-1))


def _segments(out: Scores, as_of: dt.date, config: RefreshSettings) -> None:
    """Cost to serve in the RFM window's years, profit, CLV class, the value × cost matrix
    and the relationship portfolio, for customers who bought (engine.segments)."""
    buyers = np.flatnonzero(out.has_rfm)
    if not len(buyers):
        return
    first_year = (as_of - dt.timedelta(days=config.rfm_window_days)).year
    costs = _query_frame(
        CostEntry.objects.filter(year__gte=first_year, year__lte=as_of.year)
        .order_by().values("customer_id").annotate(s=Sum("amount"))
        .values_list("customer_id", "s"),
        {"customer_id": pl.Int64, "s": pl.Float64},
    )
    monetary = out.monetary[buyers]
    cost = np.zeros(len(buyers))
    k, found = _positions(out.ids[buyers], costs["customer_id"].to_numpy())
    cost[k[found]] = np.nan_to_num(costs["s"].to_numpy()[found], nan=0.0)
    # Potential value: the CLV with stated intent and open pipeline where there is one.
    clv = np.where(np.isfinite(out.clv_intent[buyers]), out.clv_intent[buyers], out.clv[buyers])
    profit = monetary - cost
    loyal = np.isin(out.lifecycle_stage[buyers], ["loyal", "repeat"]) & ~out.declining[buyers]
    out.clv_class[buyers] = clv_classes(monetary, clv, profit)
    out.matrix[buyers] = customer_matrix(monetary, cost)
    out.portfolio[buyers] = relationship_portfolio(profit, loyal)
    out.vk[buyers] = _vk(out.ids[buyers], as_of, config)
    out.cost_to_serve[buyers] = cost
    out.profit[buyers] = profit


def _positions(keys: NDArray[np.int64], values: NDArray[np.int64]
               ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """For each of ``values``: its index in the sorted ``keys`` and whether it is there."""
    if not len(keys):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    k = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return k, keys[k] == values


def _vk(buyers: NDArray[np.int64], as_of: dt.date, config: RefreshSettings
        ) -> NDArray[np.float64]:
    """VK = sum_t (Q_t - C_t) / (1 + i)^t over the years of each relationship, t = 0 in the
    year of the first order (DOMAIN.md section 4): yearly order value less the cost to serve
    posted for that year. ``buyers`` are customer ids in ascending order."""
    spend = _yearly_spend()
    costs = _query_frame(
        CostEntry.objects.filter(year__lte=as_of.year).order_by()
        .values("customer_id", "year").annotate(s=Sum("amount"))
        .values_list("customer_id", "year", "s"),
        {"customer_id": pl.Int64, "year": pl.Int64, "s": pl.Float64},
    )
    firsts = spend.group_by("customer_id").agg(pl.col("year").min().alias("first"))
    width = max(as_of.year - int(firsts["first"].min()), 0) + 1 if firsts.height else 1
    # Each buyer's first order year (the as-of year when there is none).
    start = np.full(len(buyers), as_of.year, dtype=np.int64)
    k, found = _positions(buyers, firsts["customer_id"].to_numpy())
    start[k[found]] = firsts["first"].to_numpy()[found]
    q = np.zeros((len(buyers), width))
    c = np.zeros((len(buyers), width))
    for frame, target in ((spend, q), (costs, c)):
        ids = frame["customer_id"].to_numpy()
        years = frame["year"].to_numpy().astype(np.int64)
        amounts = frame["s"].to_numpy()
        k, found = _positions(buyers, ids)
        keep = found & (years <= as_of.year)
        k, years, amounts = k[keep], years[keep], amounts[keep]
        t = years - start[k]
        ok = t >= 0
        target[k[ok], t[ok]] = amounts[ok]
    return np.atleast_1d(discounted_value(q, c, discount_rate=config.discount_rate))


def _yearly_spend() -> pl.DataFrame:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    qs = (Order.objects.exclude(status="cancelled")
          .annotate(y=ExtractYear("ordered_at", tzinfo=tz)).order_by()
          .values("customer_id", "y").annotate(s=Sum("total_cny"))
          .values_list("customer_id", "y", "s"))
    return _query_frame(qs, {"customer_id": pl.Int64, "year": pl.Int64, "s": pl.Float64})


def _churn(codes, days, amounts, as_of, n):
    """The learned early-warning model; None (baseline 1 - P(alive) stays) when the history
    is too short to train and evaluate it."""
    from guanxi.analytics.engine.churn_model import churn_model

    horizon = getattr(settings, "ANALYTICS_CHURN_HORIZON_DAYS", 90)
    try:
        return churn_model(codes, days, amounts, as_of=as_of, horizon_days=horizon,
                           n_customers=n)
    except InputError:
        return None


def _reasons(out: Scores, p: NDArray[np.int64], p_alive: NDArray[np.float64]) -> pl.Series:
    """Plain reasons behind a churn risk, most telling first, for the customers at
    positions ``p``: JSON lists of strings."""
    pct = p_alive * 100.0
    cond = {
        "recency": out.has_rfm[p] & (out.r_score[p] <= 2),
        "declining": out.declining[p],
        "p_alive": p_alive < 0.5,
        "few": out.f_score[p] <= 2,
    }
    frame = pl.DataFrame({
        **{name: values for name, values in cond.items()},
        "days": out.recency_days[p],
        "pct_sign": np.signbit(pct),
        "pct": np.rint(np.abs(np.nan_to_num(pct, nan=0.0))).astype(np.int64),
    })
    parts = [
        pl.when(pl.col("recency")).then(
            pl.concat_str([pl.lit('"no purchase for '), pl.col("days").cast(pl.String),
                           pl.lit(' days"')])),
        pl.when(pl.col("declining")).then(pl.lit(json.dumps(
            "buying less often or less than before"))),
        pl.when(pl.col("p_alive")).then(
            pl.concat_str([pl.lit('"P(still active) '),
                           pl.when(pl.col("pct_sign")).then(pl.lit("-")).otherwise(pl.lit("")),
                           pl.col("pct").cast(pl.String),
                           pl.lit('% from the purchase pattern"')])),
        pl.when(pl.col("few")).then(pl.lit(json.dumps("few purchases"))),
    ]
    return frame.select(
        pl.concat_str([pl.lit("["), pl.concat_str(parts, separator=", ", ignore_nulls=True),
                       pl.lit("]")]).alias("reasons")
    )["reasons"]


def _reason_json(index: NDArray[np.int16], texts: tuple[str, ...]) -> pl.Series:
    """The churn model's reasons (rows of indexes into ``texts``, -1 for none) as JSON text
    per customer. The few distinct rows are encoded once (a polars list column of a million
    rows takes gigabytes)."""
    if index.size == 0:
        return pl.Series("reasons", ["[]"] * len(index), dtype=pl.String)
    # Each row as one integer (base len(texts) + 1 digits, -1 as 0): a 1-D unique.
    base = np.int64(len(texts) + 1)
    keys = np.zeros(len(index), dtype=np.int64)
    for col in range(index.shape[1]):
        keys = keys * base + (index[:, col].astype(np.int64) + 1)
    values, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    encoded = pl.Series("reasons", [json.dumps([texts[j] for j in index[i] if j >= 0])
                                    for i in first.tolist()], dtype=pl.String)
    return encoded.gather(inverse.reshape(-1))


def _prospects(out: Scores) -> None:
    """Customers without purchases: prospect with an open opportunity, else suspect."""
    no_orders = out.lifecycle_stage == ""
    if not no_orders.any():
        return
    open_opp = _query_frame(
        Opportunity.objects.filter(status="open").order_by().values_list("customer_id")
        .distinct(),
        {"customer_id": pl.Int64},
    )["customer_id"].to_numpy()
    with_opp = np.isin(out.ids, open_opp)
    out.lifecycle_stage[no_orders & with_opp] = "prospect"
    out.lifecycle_stage[no_orders & ~with_opp] = "suspect"


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


def _count(values: NDArray[np.str_]) -> dict[str, int]:
    """Customers per value, in the order of first appearance (customers by id)."""
    uniq, first, counts = np.unique(values, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return {str(uniq[i]): int(counts[i]) for i in order}


def _round2(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Python's ``round(v, 2)`` elementwise: numpy's fast rounding, redone with Python's
    correctly rounded one where the value lies close to a half cent."""
    out = np.round(values, 2)
    with np.errstate(invalid="ignore", over="ignore"):
        frac = np.abs(values * 100.0) % 1.0
        slack = np.maximum(1e-6, np.abs(values) * 1e-13)
        near = np.isfinite(values) & (np.abs(frac - 0.5) < slack)
    for i in np.flatnonzero(near):
        out[i] = round(float(values[i]), 2)
    return out


def _money_text(values: NDArray[np.float64], *, zero: bool = False) -> pl.Series:
    """Amounts as exact decimal text with two places (what ``_money`` stores); not finite
    gives null, or 0.00 with ``zero``."""
    finite = np.isfinite(values)
    safe = np.where(finite, values, 0.0)
    cents = np.rint(_round2(safe) * 100.0).astype(np.int64)
    neg = cents < 0
    whole = np.abs(cents)
    frame = pl.DataFrame({"neg": neg, "units": whole // 100, "cents": whole % 100,
                          "finite": finite | zero})
    return frame.select(
        pl.when(pl.col("finite")).then(pl.concat_str([
            pl.when(pl.col("neg")).then(pl.lit("-")).otherwise(pl.lit("")),
            pl.col("units").cast(pl.String),
            pl.lit("."),
            pl.col("cents").cast(pl.String).str.zfill(2),
        ])).alias("m")
    )["m"]


def _float_col(values: NDArray[np.float64]) -> pl.Series:
    """Finite floats; NaN and infinities become null."""
    return pl.Series(values).set(pl.Series(~np.isfinite(values)), None)


_COLUMNS = (
    "run_id", "customer_id", "as_of", "recency_days", "frequency", "monetary", "r_score",
    "f_score", "m_score", "rfm_class", "abc_class", "value_tier", "lifecycle_stage",
    "declining", "p_alive", "expected_purchases", "expected_spend", "clv", "clv_intent",
    "churn_probability", "expected_loss", "reasons", "vk", "cost_to_serve", "profit",
    "clv_class", "matrix", "portfolio", "tags", "cluster",
)


def _snapshot_frame(run: ModelRun, as_of: dt.date, s: Scores, lo: int, hi: int
                     ) -> pl.DataFrame:
    """Rows ``lo:hi`` of the snapshots as text-ready columns, in ``_COLUMNS`` order."""
    sl = slice(lo, hi)
    n = hi - lo
    has = s.has_rfm[sl]

    def opt_int(values: NDArray[np.int64]) -> pl.Series:
        return pl.Series(values[sl]).set(pl.Series(~has), None)

    return pl.DataFrame({
        "run_id": np.full(n, run.pk, dtype=np.int64),
        "customer_id": s.ids[sl],
        "as_of": pl.Series([as_of.isoformat()], dtype=pl.String).extend_constant(
            as_of.isoformat(), n - 1),
        "recency_days": opt_int(s.recency_days),
        "frequency": s.frequency[sl],
        "monetary": _money_text(s.monetary[sl], zero=True),
        "r_score": opt_int(s.r_score),
        "f_score": opt_int(s.f_score),
        "m_score": opt_int(s.m_score),
        "rfm_class": s.rfm_class[sl],
        "abc_class": s.abc_class[sl],
        "value_tier": s.value_tier[sl],
        "lifecycle_stage": s.lifecycle_stage[sl],
        "declining": s.declining[sl],
        "p_alive": _float_col(s.p_alive[sl]),
        "expected_purchases": _float_col(s.expected_purchases[sl]),
        "expected_spend": _money_text(s.expected_spend[sl]),
        "clv": _money_text(s.clv[sl]),
        "clv_intent": _money_text(s.clv_intent[sl]),
        "churn_probability": _float_col(s.churn_probability[sl]),
        "expected_loss": _money_text(s.expected_loss[sl]),
        "reasons": s.reasons.slice(lo, n),
        "vk": _money_text(s.vk[sl]),
        "cost_to_serve": _money_text(s.cost_to_serve[sl], zero=True),
        "profit": _money_text(s.profit[sl], zero=True),
        "clv_class": s.clv_class[sl],
        "matrix": s.matrix[sl],
        "portfolio": s.portfolio[sl],
        "tags": s.tags.slice(lo, n),
        "cluster": pl.Series(s.cluster[sl]).set(pl.Series(s.cluster[sl] < 0), None),
    })


def _write(run: ModelRun, as_of: dt.date, scores: Scores, batch_size: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if partitions.partitioned(cursor.cursor):
                _write_partition(run, as_of, scores)
                return
    ScoreSnapshot.objects.filter(as_of=as_of).exclude(run=run).delete()
    if connection.vendor == "postgresql":
        _write_copy(run, as_of, scores)
    else:
        _write_orm(run, as_of, scores, batch_size)


def _csv_chunks(frames) -> Iterator[memoryview]:
    for frame in frames:
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, null_value=r"\N")
        yield buf.getbuffer()


def _copy_frames(cursor, sql: str, frames) -> None:
    with cursor.copy(sql) as copy:
        for chunk in _csv_chunks(frames):
            copy.write(chunk)


def _snapshot_chunks(run: ModelRun, as_of: dt.date, s: Scores) -> Iterator[memoryview]:
    return _csv_chunks(_snapshot_frame(run, as_of, s, lo, min(lo + COPY_CHUNK, len(s)))
                       for lo in range(0, len(s), COPY_CHUNK))


def _write_partition(run: ModelRun, as_of: dt.date, s: Scores) -> None:
    """PostgreSQL with day partitions: the day is written and indexed in a table of its own,
    then swapped in together with the customers' new stages (``analytics.partitions``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        partitions.drop_abandoned(raw)
        staged = partitions.stage(raw, as_of=as_of, run_id=run.pk, columns=_COLUMNS,
                                  chunks=_snapshot_chunks(run, as_of, s))
    with transaction.atomic(), connection.cursor() as cursor:
        _update_stages(cursor, s)
        partitions.swap(cursor.cursor, as_of=as_of, staged=staged)


def _write_copy(run: ModelRun, as_of: dt.date, s: Scores) -> None:
    qn = connection.ops.quote_name
    table = qn(ScoreSnapshot._meta.db_table)
    cols = ", ".join(qn(c) for c in _COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(
                f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT CSV, NULL '\\N')") as copy:
            for chunk in _snapshot_chunks(run, as_of, s):
                copy.write(chunk)
        _update_stages(cursor, s)


def _update_stages(cursor, s: Scores) -> None:
    """PostgreSQL: set each customer's lifecycle stage to the refresh's, touching only the
    rows whose stage changed (COPY into a temporary table, one UPDATE ... FROM)."""
    valid = np.isin(s.lifecycle_stage, [st.code for st in STAGES] + ["suspect", "prospect"])
    customers = connection.ops.quote_name(Customer._meta.db_table)
    stages = pl.DataFrame({"id": s.ids[valid], "stage": s.lifecycle_stage[valid]})
    # Rolled back with the transaction on an error, dropped here otherwise.
    cursor.execute("CREATE TEMPORARY TABLE guanxi_refresh_stage "
                   "(id bigint PRIMARY KEY, stage varchar(12) NOT NULL)")
    _copy_frames(
        cursor.cursor,
        "COPY guanxi_refresh_stage (id, stage) FROM STDIN WITH (FORMAT CSV)",
        (stages.slice(lo, COPY_CHUNK) for lo in range(0, stages.height, COPY_CHUNK)),
    )
    cursor.execute("ANALYZE guanxi_refresh_stage")
    cursor.execute(
        f"UPDATE {customers} AS c SET lifecycle_stage = t.stage "
        "FROM guanxi_refresh_stage AS t "
        "WHERE c.id = t.id AND c.lifecycle_stage <> t.stage"
    )
    cursor.execute("DROP TABLE guanxi_refresh_stage")


def _write_orm(run: ModelRun, as_of: dt.date, s: Scores, batch_size: int) -> None:
    for lo in range(0, len(s), batch_size):
        hi = min(lo + batch_size, len(s))
        frame = _snapshot_frame(run, as_of, s, lo, hi)
        with transaction.atomic():
            ScoreSnapshot.objects.bulk_create(
                [
                    ScoreSnapshot(
                        run=run,
                        customer_id=r["customer_id"],
                        as_of=as_of,
                        recency_days=r["recency_days"],
                        frequency=r["frequency"],
                        monetary=Decimal(r["monetary"]),
                        r_score=r["r_score"],
                        f_score=r["f_score"],
                        m_score=r["m_score"],
                        rfm_class=r["rfm_class"],
                        abc_class=r["abc_class"],
                        value_tier=r["value_tier"],
                        lifecycle_stage=r["lifecycle_stage"],
                        declining=r["declining"],
                        p_alive=r["p_alive"],
                        expected_purchases=r["expected_purchases"],
                        expected_spend=_decimal(r["expected_spend"]),
                        clv=_decimal(r["clv"]),
                        clv_intent=_decimal(r["clv_intent"]),
                        churn_probability=r["churn_probability"],
                        expected_loss=_decimal(r["expected_loss"]),
                        vk=_decimal(r["vk"]),
                        cost_to_serve=Decimal(r["cost_to_serve"]),
                        profit=Decimal(r["profit"]),
                        clv_class=r["clv_class"],
                        matrix=r["matrix"],
                        portfolio=r["portfolio"],
                        reasons=json.loads(r["reasons"]),
                        tags=json.loads(r["tags"]),
                        cluster=r["cluster"],
                    )
                    for r in frame.iter_rows(named=True)
                ]
            )
    valid = {st.code for st in STAGES} | {"suspect", "prospect"}
    for stage in np.unique(s.lifecycle_stage):
        if str(stage) not in valid:
            continue
        ids = s.ids[s.lifecycle_stage == stage].tolist()
        for lo in range(0, len(ids), 5000):
            Customer.objects.filter(id__in=ids[lo : lo + 5000]).exclude(
                lifecycle_stage=str(stage)
            ).update(lifecycle_stage=str(stage))


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
