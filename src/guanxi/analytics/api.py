"""/api/v1/analytics: a customer's scores, a segment's customers, the dashboard's figures and
the refresh, each through the same query or service as the pages (same scope, same masking)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.analytics import queries, services
from guanxi.analytics.engine.profiles import TAGS
from guanxi.analytics.schemas import (
    ERRORS,
    AbcClassT,
    ClvClassT,
    JobOut,
    MatrixT,
    PortfolioT,
    RefreshIn,
    RfmClassT,
    ScoreOut,
    SegmentPage,
    StageT,
    SummaryOut,
    ValueTierT,
    job_out,
    label,
    score_out,
    segment_row,
)
from guanxi.core.api import actor_from
from guanxi.core.exceptions import NotFound

router = Router(tags=["analytics"])
#: The profile tags' codes (engine.profiles.TAGS), or none.
TagT = Literal.__getitem__(("", *(t.code for t in TAGS)))


class SegmentParams(Schema):
    rfm_class: RfmClassT = ""
    value_tier: ValueTierT = ""
    abc_class: AbcClassT = ""
    lifecycle_stage: StageT = ""
    clv_class: ClvClassT = ""
    matrix: MatrixT = ""
    portfolio: PortfolioT = ""
    tag: TagT = Field("", description="a profile tag (high_value, churn_risk, ...)")
    cluster: int | None = Field(None, ge=0, le=20, description="a customer group (cluster)")
    as_of: dt.date | None = Field(None, description="a snapshot date (default: the latest)")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class SummaryParams(Schema):
    as_of: dt.date | None = Field(None, description="a snapshot date (default: the latest)")


def _job_url(job_id: int) -> str:
    return f"{reverse('api:api-root')}analytics/jobs/{job_id}"


@router.get("/customers/{customer_id}/scores", response={200: list[ScoreOut], **ERRORS},
            summary="A customer's score history")
def customer_scores(request: HttpRequest, customer_id: int,
                    limit: int = Query(12, ge=1, le=120)):
    """The customer's score snapshots, newest first; 404 for a customer you may not see."""
    rows = queries.customer_scores(actor=actor_from(request), customer_id=customer_id,
                                   limit=limit)
    return [score_out(s) for s in rows]


@router.get("/segment", response={200: SegmentPage, **ERRORS},
            summary="The customers in a segment")
def segment(request: HttpRequest, params: Query[SegmentParams]):
    """Customers you may see with their scores on the latest (or the given) snapshot date,
    filtered by class, tier, stage or quadrant; phone and email masked for roles without the
    personal-data permission. Follow ``next_cursor`` for the next page."""
    f = queries.SegmentFilter(
        rfm_class=params.rfm_class, value_tier=params.value_tier, abc_class=params.abc_class,
        lifecycle_stage=params.lifecycle_stage, clv_class=params.clv_class,
        matrix=params.matrix, portfolio=params.portfolio, tag=params.tag,
        cluster=params.cluster)
    page = queries.segment(actor=actor_from(request), f=f, as_of=params.as_of,
                           cursor=params.cursor, limit=params.limit)
    as_of = params.as_of
    if as_of is None:
        run = queries.latest_run()
        as_of = run.as_of if run else None
    return {"as_of": as_of, "items": [segment_row(s) for s in page.items],
            "next_cursor": page.next_cursor, "count": page.count_text}


def _rows(rows: list[dict], key: str, *extra: str) -> list[dict]:
    return [{"code": r[key], "label": label(key, r[key]) if key != "abc_class" else None,
             "n": r["n"], "value": r.get("value") or 0, **{x: r.get(x) for x in extra}}
            for r in rows]


@router.get("/summary", response={200: SummaryOut, **ERRORS},
            summary="The dashboard's figures")
def summary(request: HttpRequest, params: Query[SummaryParams]):
    """Class sizes and value, tiers, ABC classes, lifecycle stages, CLV classes, the value ×
    cost matrix and the portfolio, over the scored customers you may see; and how well the
    churn model did on a held-out period. 404 when no scores were made on ``as_of``."""
    actor, as_of = actor_from(request), params.as_of
    ov = queries.overview(actor=actor, as_of=as_of)
    dates = [r.as_of for r in queries.runs()]
    if ov is None:
        if as_of is not None:
            raise NotFound("no scores on that date")
        return {"as_of": None, "dates": dates, "n": 0, "classes": [], "tiers": [], "abc": [],
                "stages": [], "clv_classes": [], "matrix": [], "portfolio": [],
                "clv_histogram": {"edges": [], "counts": []}, "pareto": [], "at_risk": [],
                "churn_evaluation": None}
    churn = (ov.run.fits or {}).get("churn")
    return {
        "as_of": ov.run.as_of, "dates": dates, "n": ov.n,
        "classes": _rows(ov.classes, "rfm_class", "clv"),
        "tiers": _rows(ov.tiers, "value_tier"),
        "abc": _rows(ov.abc, "abc_class"),
        "stages": [{"code": r["lifecycle_stage"],
                    "label": label("lifecycle_stage", r["lifecycle_stage"]), "n": r["n"]}
                   for r in ov.stages],
        "clv_classes": _rows(ov.clv_classes, "clv_class", "profit"),
        "matrix": _rows(ov.matrix, "matrix", "profit"),
        "portfolio": _rows(ov.portfolio, "portfolio", "profit"),
        "clv_histogram": ov.clv_histogram,
        "pareto": ov.pareto,
        "at_risk": [{"customer_id": s.customer_id, "name": s.customer.name,
                     "churn_probability": s.churn_probability, "clv": s.clv,
                     "expected_loss": s.expected_loss, "reasons": list(s.reasons or [])}
                    for s in ov.at_risk],
        "churn_evaluation": churn.get("evaluation") if isinstance(churn, dict) else None,
    }


@router.post("/refresh", response={202: JobOut, **ERRORS}, summary="Refresh every score")
def refresh(request: HttpRequest, payload: RefreshIn | None = None):
    """Start a refresh of every customer's scores, as the dashboard's button does (analysts,
    managers and administrators; 403 for others). Poll ``url`` for its progress."""
    actor = actor_from(request)
    job = services.refresh_start(actor=actor, as_of=payload.as_of if payload else None)
    return Status(202, job_out(job, _job_url(job.pk)))


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS},
            summary="Progress of a refresh")
def job_status(request: HttpRequest, job_id: int):
    """For the user who started the refresh and administrators (404 for anyone else)."""
    job = queries.job_get(actor=actor_from(request), job_id=job_id)
    return job_out(job, _job_url(job.pk))

