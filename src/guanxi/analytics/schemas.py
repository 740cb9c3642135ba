"""API shapes for analytics: a customer's scores, a segment's rows, the dashboard's figures and
a refresh job's progress.

Output is built field by field from the names listed here (``SCORE_FIELDS``), so fields a
snapshot gains later stay out of the answer until they are listed.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone, translation
from ninja import Schema
from pydantic import Field, field_validator

from guanxi.analytics.engine.abc import ABC_LABELS, VALUE_TIERS
from guanxi.analytics.engine.rfm import RFM_CLASSES
from guanxi.analytics.engine.segments import CLV_CLASSES, MATRIX, PORTFOLIO
from guanxi.customers.models import LifecycleStage
from guanxi.customers.schemas import ErrorOut

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# Codes a filter accepts ("" or absent: no filter on that field).
RfmClassT = Literal[("",) + tuple(c.code for c in RFM_CLASSES)]
ValueTierT = Literal[("",) + tuple(t.code for t in VALUE_TIERS)]
AbcClassT = Literal[("",) + ABC_LABELS]
StageT = Literal[("",) + tuple(LifecycleStage.values)]
ClvClassT = Literal[("",) + tuple(CLV_CLASSES)]
MatrixT = Literal[("",) + tuple(MATRIX)]
PortfolioT = Literal[("",) + tuple(PORTFOLIO)]

#: The snapshot fields the API shows, in order.
SCORE_FIELDS = (
    "as_of", "run_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
    "m_score", "rfm_class", "abc_class", "value_tier", "lifecycle_stage", "declining",
    "p_alive", "expected_purchases", "expected_spend", "clv", "clv_intent",
    "churn_probability", "expected_loss", "reasons", "vk", "cost_to_serve", "profit",
    "clv_class", "matrix", "portfolio", "tags", "cluster",
)


class Label(Schema):
    zh: str
    en: str


@functools.cache
def _tables() -> dict[str, dict[str, tuple[str, str]]]:
    stages = {}
    for code, label in LifecycleStage.choices:
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        stages[code] = (zh, en)
    return {
        "rfm_class": {c.code: (c.label_zh, c.label_en) for c in RFM_CLASSES},
        "value_tier": {t.code: (t.label_zh, t.label_en) for t in VALUE_TIERS},
        "lifecycle_stage": stages,
        "clv_class": dict(CLV_CLASSES),
        "matrix": dict(MATRIX),
        "portfolio": dict(PORTFOLIO),
    }


def label(kind: str, code: str) -> dict[str, str] | None:
    """The Chinese and English label of a class, tier, stage, quadrant or portfolio code."""
    pair = _tables()[kind].get(code) if code else None
    return {"zh": pair[0], "en": pair[1]} if pair else None


class ScoreOut(Schema):
    as_of: dt.date
    run_id: int
    recency_days: int | None = Field(description="days since the last purchase")
    frequency: int = Field(description="purchases in the RFM window")
    monetary: Decimal = Field(description="spend in the RFM window")
    r_score: int | None = Field(description="1-5, recent = 5")
    f_score: int | None
    m_score: int | None
    rfm_class: str
    rfm_class_label: Label | None
    abc_class: str
    value_tier: str
    value_tier_label: Label | None
    lifecycle_stage: str
    lifecycle_stage_label: Label | None
    declining: bool
    p_alive: float | None = Field(description="probability the customer is still active")
    expected_purchases: float | None
    expected_spend: Decimal | None = Field(description="expected spend per purchase")
    clv: Decimal | None = Field(description="customer lifetime value")
    clv_intent: Decimal | None = Field(
        description="CLV with stated intent and open pipeline")
    churn_probability: float | None
    expected_loss: Decimal | None
    reasons: list[str] = Field(description="why the churn risk, most telling first")
    vk: Decimal | None = Field(description="discounted relationship value")
    cost_to_serve: Decimal
    profit: Decimal = Field(description="profit after cost to serve")
    clv_class: str
    clv_class_label: Label | None
    matrix: str = Field(description="value × cost quadrant: I, II, III, IV")
    matrix_label: Label | None
    portfolio: str
    portfolio_label: Label | None
    tags: list[str] = Field(description="profile tags (engine.profiles.TAGS codes)")
    cluster: int | None = Field(description="customer group (k-means cluster), 0 = most valuable")


_LABELLED = ("rfm_class", "value_tier", "lifecycle_stage", "clv_class", "matrix", "portfolio")


def score_out(s: Any) -> dict[str, Any]:
    data = {name: getattr(s, name) for name in SCORE_FIELDS}
    data["reasons"] = [str(r) for r in (data["reasons"] or [])]
    data["tags"] = [str(t) for t in (data["tags"] or [])]
    for kind in _LABELLED:
        data[f"{kind}_label"] = label(kind, data[kind])
    return data


class SegmentRow(Schema):
    customer_id: int
    name: str
    phone: str = Field(description="primary phone, masked without the personal-data permission")
    email: str = Field(description="primary email, masked without the personal-data permission")
    scores: ScoreOut


def segment_row(s: Any) -> dict[str, Any]:
    c = s.customer
    return {"customer_id": c.pk, "name": c.name, "phone": c.primary_phone or "",
            "email": c.primary_email or "", "scores": score_out(s)}


class SegmentPage(Schema):
    as_of: dt.date | None = Field(description="the snapshot date shown (none: no scores yet)")
    items: list[SegmentRow]
    next_cursor: str | None
    count: str = Field(description="rows matching, exact up to the limit, then 'N+'")


class ClassRow(Schema):
    code: str
    label: Label | None
    n: int
    value: Decimal = Field(description="spend in the RFM window")
    clv: Decimal | None = None


class GroupRow(Schema):
    code: str
    label: Label | None
    n: int
    value: Decimal
    profit: Decimal | None = None


class StageRow(Schema):
    code: str
    label: Label | None
    n: int


class AtRiskRow(Schema):
    customer_id: int
    name: str
    churn_probability: float | None
    clv: Decimal | None
    expected_loss: Decimal | None
    reasons: list[str]


class SummaryOut(Schema):
    as_of: dt.date | None = Field(description="the snapshot date (none: no scores yet)")
    dates: list[dt.date] = Field(description="dates with scores, newest first")
    n: int = Field(description="scored customers you may see")
    classes: list[ClassRow] = Field(description="RFM classes")
    tiers: list[GroupRow] = Field(description="value tiers")
    abc: list[GroupRow] = Field(description="ABC classes")
    stages: list[StageRow] = Field(description="lifecycle stages")
    clv_classes: list[GroupRow]
    matrix: list[GroupRow] = Field(description="value × cost quadrants")
    portfolio: list[GroupRow] = Field(description="relationship portfolio")
    clv_histogram: dict[str, list[float]] = Field(description="edges and counts")
    pareto: list[tuple[float, float]] = Field(
        description="(share of customers, share of spend), largest spenders first")
    at_risk: list[AtRiskRow] = Field(description="largest expected loss first")
    churn_evaluation: dict[str, Any] | None = Field(
        description="the churn model against a held-out period, when it was fitted")


class RefreshIn(Schema):
    as_of: dt.date | None = Field(None, description="the scores' date (default: today)")

    @field_validator("as_of")
    @classmethod
    def _not_ahead(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > timezone.localdate():
            raise ValueError("Give today or an earlier date.")
        return value


class JobOut(Schema):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    step: str = Field(description="the step running now")
    done: int = Field(description="steps done")
    total: int | None = Field(description="steps in all")
    percent: int
    as_of: dt.date | None
    error: str
    url: str = Field(description="this job's progress")
    created_at: dt.datetime
    updated_at: dt.datetime


def job_out(job: Any, url: str) -> dict[str, Any]:
    as_of = (job.params or {}).get("as_of")
    total = job.total or 0
    percent = 100 if job.status == "done" else (
        min(100, round(100 * job.done / total)) if total else 0)
    return {"id": job.pk, "status": job.status, "step": job.cursor, "done": job.done,
            "total": job.total, "percent": percent,
            "as_of": dt.date.fromisoformat(as_of) if as_of else None, "error": job.error,
            "url": url, "created_at": job.created_at, "updated_at": job.updated_at}
