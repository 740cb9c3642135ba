"""The analytics dashboard, its drill-downs and exports, the refresh with progress."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.analytics import queries, services
from guanxi.analytics.engine.abc import VALUE_TIERS
from guanxi.analytics.engine.profiles import TAGS
from guanxi.analytics.engine.rfm import RFM_CLASSES
from guanxi.analytics.engine.segments import CLV_CLASSES, MATRIX, PORTFOLIO
from guanxi.analytics.models import CostKind
from guanxi.core.access import policy
from guanxi.core.web import Echo, csv_cell, page, web_actor
from guanxi.customers.models import Customer, LifecycleStage

_CLASS_ORDER = {c.code: i for i, c in enumerate(RFM_CLASSES)}
_TIER_ORDER = {t.code: i for i, t in enumerate(VALUE_TIERS)}
STAGE_ORDER = ["suspect", "prospect", "first_time", "repeat", "loyal", "lost"]


def class_label(code: str) -> str:
    cls = next((c for c in RFM_CLASSES if c.code == code), None)
    if cls is None:
        return code
    return cls.label_zh if (get_language() or "").startswith("zh") else cls.label_en.title()


def tier_label(code: str) -> str:
    t = next((t for t in VALUE_TIERS if t.code == code), None)
    if t is None:
        return code
    return t.label_zh if (get_language() or "").startswith("zh") else t.label_en


def profile_tag_label(code: str) -> str:
    tag = next((t for t in TAGS if t.code == code), None)
    if tag is None:
        return code
    return tag.label_zh if (get_language() or "").startswith("zh") else tag.label_en


def _tag_rule(tag) -> str:
    return tag.rule_zh if (get_language() or "").startswith("zh") and tag.rule_zh else tag.rule


def group_label(run, cluster: int | None) -> str:
    """A customer group (cluster) as its readable description in the user's language."""
    clusters = ((run.fits or {}).get("clusters") or {}) if run is not None else {}
    key = "description_zh" if (get_language() or "").startswith("zh") else "description_en"
    names = clusters.get(key) or []
    if cluster is None or not 0 <= cluster < len(names):
        return ""
    return _("Group %(n)d: %(description)s") % {"n": cluster + 1, "description": names[cluster]}


def pair_label(table: dict, code: str) -> str:
    zh, en = table.get(code, (code, code))
    return zh if (get_language() or "").startswith("zh") else en


# The engine's default playbooks (English), marked for translation here.
_PLAYBOOKS = [
    gettext_noop("keep: priority service"), gettext_noop("raise frequency: cross-sell"),
    gettext_noop("re-engage now: personal contact"), gettext_noop("win back: call, special offer"),
    gettext_noop("raise spend: up-sell, bundles"), gettext_noop("nurture by tech-touch"),
    gettext_noop("low-cost reminders"), gettext_noop("automated win-back, or let go"),
]


def _playbook(code: str) -> str:
    cls = next((c for c in RFM_CLASSES if c.code == code), None)
    return _(cls.playbook) if cls else ""


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    ov = queries.overview(actor=actor)
    ctx = {"ov": ov, "job_id": request.GET.get("job")}
    if ov is not None:
        seg = reverse("analytics_segment")
        stage_counts = {r["lifecycle_stage"]: r["n"] for r in ov.stages}
        stage_labels = dict(LifecycleStage.choices)
        runs = queries.runs()
        migration = []
        if len(runs) >= 2:
            migration = queries.migration(actor=actor, start=runs[1].as_of, end=runs[0].as_of)
        cohorts = queries.cohort_retention(actor=actor, months=12)
        ctx.update(
            {
                "classes": [
                    {
                        **r,
                        "label": class_label(r["rfm_class"]),
                        "playbook": _playbook(r["rfm_class"]),
                        "url": f"{seg}?{urlencode({'rfm_class': r['rfm_class']})}",
                    }
                    for r in sorted(
                        ov.classes,
                        key=lambda r: _CLASS_ORDER.get(r["rfm_class"], len(_CLASS_ORDER)),
                    )
                ],
                "tiers": [
                    {
                        **r,
                        "label": tier_label(r["value_tier"]),
                        "url": f"{seg}?value_tier={r['value_tier']}",
                    }
                    for r in sorted(ov.tiers, key=lambda r: _TIER_ORDER.get(r["value_tier"], len(_TIER_ORDER)))
                ],
                "runs": runs,
                "migration": migration,
                "clusters": [
                    {**r, "label": group_label(ov.run, r["cluster"]),
                     "url": f"{seg}?cluster={r['cluster']}"}
                    for r in ov.clusters
                ],
                "profile_tags": [(t.code, profile_tag_label(t.code), _tag_rule(t),
                                  f"{seg}?tag={t.code}") for t in TAGS],
                "rules": _named_rules(ov.run),
                "cohorts": cohorts,
                "groups": [
                    (title, [{**r, "label": pair_label(table, r[key]),
                              "url": f"{seg}?{key}={r[key]}"} for r in rows])
                    for title, key, table, rows in (
                        (_("CLV classes"), "clv_class", CLV_CLASSES, ov.clv_classes),
                        (_("Customer matrix: value × cost"), "matrix", MATRIX, ov.matrix),
                        (_("Relationship portfolio: profit × loyalty"), "portfolio",
                         PORTFOLIO, ov.portfolio))
                ],
                "charts": {
                    "classes": {
                        "codes": [r["rfm_class"] for r in ov.classes],
                        "labels": [class_label(r["rfm_class"]) for r in ov.classes],
                        "counts": [r["n"] for r in ov.classes],
                        "values": [float(r["value"] or 0) for r in ov.classes],
                    },
                    "pareto": [[round(x * 100, 1), round(y * 100, 1)] for x, y in ov.pareto],
                    "clv": {
                        "edges": [round(e) for e in ov.clv_histogram["edges"]],
                        "counts": ov.clv_histogram["counts"],
                    },
                    "funnel": [
                        {
                            "code": s,
                            "name": str(stage_labels.get(s, s)),
                            "value": stage_counts.get(s, 0),
                        }
                        for s in STAGE_ORDER
                    ],
                    "migration": [
                        {
                            "source": class_label(m["from"]) + " ·",
                            "target": class_label(m["to"]),
                            "value": m["n"],
                        }
                        for m in migration
                        if m["from"] != "none" and m["to"] != "none"
                    ],
                    "segment_url": seg,
                },
            }
        )
    return render(request, "analytics/dashboard.html", ctx)


def _named_rules(run, top: int = 10) -> list[dict]:
    """The run's strongest association rules with product names beside the SKUs."""
    rules = ((run.fits or {}).get("rules") or {}).get("rules", [])[:top]
    names = queries.product_names([r[k] for r in rules
                                   for k in ("antecedent_name", "consequent_name")])
    return [{**r, "antecedent_label": names.get(r["antecedent_name"], ""),
             "consequent_label": names.get(r["consequent_name"], "")} for r in rules]


def _filter(request: HttpRequest) -> queries.SegmentFilter:
    g = request.GET
    return queries.SegmentFilter(
        rfm_class=g.get("rfm_class", "")[:30],
        value_tier=g.get("value_tier", "")[:10],
        abc_class=g.get("abc_class", "")[:1],
        lifecycle_stage=g.get("lifecycle_stage", "")[:12],
        clv_class=g.get("clv_class", "")[:12],
        matrix=g.get("matrix", "")[:3],
        portfolio=g.get("portfolio", "")[:12],
        at_risk=bool(g.get("at_risk")),
        cluster=int(g["cluster"]) if g.get("cluster", "").isdigit() else None,
        tag=g.get("tag", "")[:30],
    )


@page
def segment(request: HttpRequest) -> HttpResponse:
    """Who is behind a chart, with their scores and why (drill-down, scoped and masked)."""
    actor = web_actor(request)
    f = _filter(request)
    p = queries.segment(actor=actor, f=f, cursor=request.GET.get("cursor"))
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    title = (
        class_label(f.rfm_class)
        if f.rfm_class
        else tier_label(f.value_tier)
        if f.value_tier
        else f"ABC {f.abc_class}"
        if f.abc_class
        else dict(LifecycleStage.choices).get(f.lifecycle_stage, "")
        if f.lifecycle_stage
        else pair_label(CLV_CLASSES, f.clv_class)
        if f.clv_class
        else pair_label(MATRIX, f.matrix)
        if f.matrix
        else pair_label(PORTFOLIO, f.portfolio)
        if f.portfolio
        else _("At risk")
        if f.at_risk
        else profile_tag_label(f.tag)
        if f.tag
        else group_label(queries.latest_run(), f.cluster)
        if f.cluster is not None
        else _("All scored customers")
    )
    return render(
        request,
        "analytics/segment.html",
        {
            "page": p,
            "title": title,
            "playbook": _playbook(f.rfm_class),
            "query": urlencode(params),
            "next_url": "?" + urlencode({**params, "cursor": p.next_cursor})
            if p.next_cursor
            else None,
            "can_export": policy.can(actor, Customer, "export"),
        },
    )


@page
def segment_export(request: HttpRequest) -> StreamingHttpResponse:
    actor = web_actor(request)
    policy.require_model(actor, Customer, "export")
    writer = csv.writer(Echo())
    header = [
        "customer_id",
        "name",
        "phone",
        "email",
        "rfm_class",
        "r",
        "f",
        "m",
        "recency_days",
        "frequency",
        "monetary",
        "value_tier",
        "abc",
        "lifecycle_stage",
        "p_alive",
        "clv",
        "clv_intent",
        "churn_probability",
        "expected_loss",
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for s in queries.segment_rows(actor=actor, f=_filter(request)):
            c = s.customer
            yield writer.writerow(
                [
                    csv_cell(v)
                    for v in [
                        c.pk,
                        c.name,
                        c.primary_phone,
                        c.primary_email,
                        s.rfm_class,
                        s.r_score,
                        s.f_score,
                        s.m_score,
                        s.recency_days,
                        s.frequency,
                        s.monetary,
                        s.value_tier,
                        s.abc_class,
                        s.lifecycle_stage,
                        s.p_alive,
                        s.clv,
                        s.clv_intent,
                        s.churn_probability,
                        s.expected_loss,
                    ]
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="segment.csv"'
    return response


@page
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    job = services.refresh_start(actor=web_actor(request))
    messages.info(request, _("Refreshing scores…"))
    return redirect(reverse("analytics_dashboard") + f"?job={job.pk}")


@page
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    job = queries.job_get(actor=web_actor(request), job_id=job_id)
    return render(request, "analytics/_job.html", {"job": job})


@page
def customer_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer page's value card, loaded after the page's first screen (htmx); empty
    when there is nothing to show the actor."""
    from guanxi.customers.queries import customer_brief

    actor = web_actor(request)
    ctx = scores_panel(actor, customer_brief(actor=actor, customer_id=customer_id))
    if ctx is None:
        return HttpResponse("")
    return render(request, "analytics/_scores_panel.html", {"p": ctx})


def scores_panel(actor, customer) -> dict | None:
    """The customer page's card: latest scores, how they were computed, their history, and
    the cost-to-serve ledger."""
    history = queries.customer_scores(actor=actor, customer_id=customer.pk, limit=12)
    costs = queries.customer_costs(actor=actor, customer_id=customer.pk)
    can_cost = policy.allows(actor, "change", customer)
    if not history and not costs and not can_cost:
        return None
    latest = history[0] if history else None
    if latest is None:
        return {"s": None, "costs": costs, "can_cost": can_cost, "customer_id": customer.pk,
                "cost_kinds": CostKind.choices}
    return {"costs": costs, "can_cost": can_cost, "customer_id": customer.pk,
            "cost_kinds": CostKind.choices,
            "clv_class_label": pair_label(CLV_CLASSES, latest.clv_class),
            "portfolio_label": pair_label(PORTFOLIO, latest.portfolio),
            "matrix_label": pair_label(MATRIX, latest.matrix),
            "s": latest, "history": history, "class_label": class_label(latest.rfm_class),
            "tags": [(t, profile_tag_label(t), f"{reverse('analytics_segment')}?tag={t}")
                     for t in (latest.tags or [])],
            "group": group_label(latest.run, latest.cluster),
            "group_url": (f"{reverse('analytics_segment')}?cluster={latest.cluster}"
                          if latest.cluster is not None else ""),
            "also_bought": queries.customer_also_bought(actor=actor, customer_id=customer.pk,
                                                        run=latest.run),
            "tier_label": tier_label(latest.value_tier), "playbook": _playbook(latest.rfm_class),
            "run": latest.run,
            "segment_url": reverse("analytics_segment") + f"?rfm_class={latest.rfm_class}"}


@page
@require_POST
def add_cost(request: HttpRequest, customer_id: int) -> HttpResponse:
    from decimal import Decimal, InvalidOperation

    from guanxi.core.exceptions import ValidationError

    try:
        amount = Decimal(request.POST.get("amount", ""))
        year = int(request.POST.get("year", "0"))
        services.cost_add(actor=web_actor(request), customer_id=customer_id, year=year,
                          kind=request.POST.get("kind", ""), amount=amount,
                          note=request.POST.get("note", ""))
        messages.success(request, _("Cost recorded."))
    except (InvalidOperation, ValueError):
        messages.error(request, _("Give the year and the amount as numbers."))
    except ValidationError as exc:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}"
                                          for k, v in exc.message_dict.items()))
    return redirect("customer_detail", customer_id=customer_id)


urlpatterns = [
    path("costs/<int:customer_id>/", add_cost, name="analytics_add_cost"),
    path("customers/<int:customer_id>/", customer_panel, name="analytics_customer_panel"),
    path("", dashboard, name="analytics_dashboard"),
    path("segment/", segment, name="analytics_segment"),
    path("segment.csv", segment_export, name="analytics_segment_export"),
    path("refresh/", refresh, name="analytics_refresh"),
    path("jobs/<int:job_id>/", job_status, name="analytics_job"),
]
