"""The sales manager's page: pipeline by stage, win rate, sales cycle, forecast against
target, activities per rep, overdue tasks. Every figure is computed from the actor's scope
and every chart drills down to the (scoped) list behind it."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from guanxi.core.web import page, web_actor
from guanxi.sales.queries import opportunities as queries


def _interactions():
    try:
        return import_module("guanxi.interactions.queries")
    except ModuleNotFoundError:
        return None


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    today = timezone.localdate()
    start = today - dt.timedelta(days=90)
    by_stage = queries.pipeline_by_stage(actor=actor)
    forecast = queries.forecast(actor=actor, months=6, group="month")
    interactions = _interactions()
    activities = overdue = None
    if interactions and hasattr(interactions, "activities_per_rep"):
        activities = interactions.activities_per_rep(actor=actor, start=start, end=today)
        overdue = interactions.overdue_tasks(actor=actor)
    list_url = reverse("opportunity_list")
    charts = {
        "stages": {
            "labels": [str(r["stage"]) for r in by_stage],
            "amount": [float(r["amount"]) for r in by_stage],
            "weighted": [float(r["weighted"]) for r in by_stage],
            "links": [f"{list_url}?status=open&stage={r['stage'].pk}" for r in by_stage],
        },
        "forecast": {
            "labels": [r["month"].strftime("%Y-%m") for r in forecast],
            "weighted": [float(r["weighted"]) for r in forecast],
            "won": [float(r["won"]) for r in forecast],
            "target": [float(r["target"]) if r["target"] is not None else None
                       for r in forecast],
        },
        "activities": {
            "labels": [str(u) for u, _ in activities or []],
            "counts": [n for _, n in activities or []],
        },
    }
    return render(request, "sales/dashboard/index.html", {
        "by_stage": by_stage, "forecast": forecast, "charts": charts,
        "win": queries.win_rate(actor=actor, start=start, end=today),
        "cycle": queries.average_cycle_days(actor=actor, start=start, end=today),
        "days_in_stage": queries.average_days_in_stage(actor=actor),
        "activities": activities, "overdue": overdue, "start": start, "today": today,
    })


urlpatterns = [path("", dashboard, name="sales_dashboard")]
