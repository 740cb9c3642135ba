"""Analytics writes: start a refresh (on demand or on schedule), record cost-to-serve, drop the
snapshots the retention does not keep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from guanxi.analytics import jobs, partitions
from guanxi.analytics.engine.version import ENGINE_VERSION
from guanxi.analytics.models import CostEntry, CostKind, ModelRun, ScoreSnapshot
from guanxi.core import audit
from guanxi.core.access import Actor
from guanxi.core.exceptions import PermissionDenied, ValidationError
from guanxi.core.models import JobRun

REFRESH_ROLES = {"admin", "analyst", "manager", "system"}


def refresh_start(*, actor: Actor, as_of: dt.date | None = None, enqueue: bool = True
                  ) -> JobRun:
    """Start a refresh of every customer's scores (analysts, managers, administrators and the
    scheduler): queued for the worker, or left to the caller to run (``enqueue=False``).
    Returns the JobRun whose progress the page shows."""
    role = actor.user.role
    if not role or role.code not in REFRESH_ROLES:
        raise PermissionDenied("Only analysts, managers and administrators refresh scores.")
    from guanxi.analytics.tasks import refresh_scores

    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        job = JobRun.objects.create(
            kind="analytics.refresh", actor=actor.user, params={"as_of": as_of.isoformat()}, total=5
        )
        audit.record(actor, job, "create", {}, {"kind": job.kind, "as_of": as_of.isoformat()})
        if enqueue:
            transaction.on_commit(lambda: refresh_scores.enqueue(job.pk))
    return job


def run_refresh_job(*, job_id: int) -> int:
    job = JobRun.objects.get(pk=job_id)
    as_of = dt.date.fromisoformat(job.params["as_of"])
    try:
        run = jobs.refresh(as_of=as_of, job=job)
    except Exception as exc:
        JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.FAILED, error=str(exc)[:2000])
        raise
    JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.DONE, done=5)
    return run.pk


def run_open(*, as_of: dt.date, job: JobRun | None, params: dict) -> ModelRun:
    """The ModelRun a refresh records its results under (status running)."""
    return ModelRun.objects.create(as_of=as_of, engine_version=ENGINE_VERSION, job=job,
                                   params=params)


def run_close(*, run: ModelRun, fits: dict, summary: dict) -> None:
    """Mark a refresh's run done with its fits and summary; it replaces the day's older runs."""
    run.fits, run.summary = fits, summary
    run.n_customers = summary["customers"]
    run.status, run.finished_at = ModelRun.Status.DONE, timezone.now()
    run.save(update_fields=["fits", "summary", "n_customers", "status", "finished_at"])
    ModelRun.objects.filter(as_of=run.as_of).exclude(pk=run.pk).delete()


def run_failed(*, run: ModelRun) -> None:
    ModelRun.objects.filter(pk=run.pk).update(status=ModelRun.Status.FAILED,
                                              finished_at=timezone.now())


def refresh_progress(*, job: JobRun | None, step: str, done: int, total: int = 5) -> None:
    """Show a refresh's step on its job (the page polls it)."""
    if job is not None:
        JobRun.objects.filter(pk=job.pk).update(cursor=step, done=done, total=total,
                                                status=JobRun.Status.RUNNING,
                                                updated_at=timezone.now())


def cost_add(
    *, actor: Actor, customer_id: int, year: int, kind: str, amount: Decimal, note: str = ""
) -> CostEntry:
    """Post a cost to serve to a customer (action ``change`` on the customer). Audited."""
    from guanxi.customers import queries as customer_queries

    with transaction.atomic():
        customer = customer_queries.customer_for_write(actor=actor, customer_id=customer_id)
        errors: dict[str, list[str]] = {}
        if kind not in CostKind.values:
            errors["kind"] = [f"Choose one of: {', '.join(CostKind.values)}."]
        if not 1990 <= int(year) <= 2200:
            errors["year"] = ["Give a year such as 2026."]
        if amount is None or Decimal(amount) < 0:
            errors["amount"] = ["Give an amount of 0 or more."]
        if errors:
            raise ValidationError(errors)
        entry = CostEntry.objects.create(
            customer=customer,
            year=year,
            kind=kind,
            amount=Decimal(amount).quantize(Decimal("0.01")),
            note=note[:200],
            created_by=actor.user,
        )
        audit.record(
            actor,
            entry,
            "create",
            {},
            {"year": year, "kind": kind, "amount": str(entry.amount), "note": note},
            customer_id=customer.pk,
        )
    return entry


def retained_days(days: Iterable[dt.date], *, written: dt.date, daily: int, monthly: int
                  ) -> set[dt.date]:
    """Which of ``days`` (dates with scores) the retention keeps: every day of the last
    ``daily`` days before the newest, the last day of each of the ``monthly`` months before
    the newest day's month (that month's last day included), and ``written``."""
    days = sorted(set(days) | {written})
    newest = days[-1]
    keep = {d for d in days if (newest - d).days < daily} | {written}
    month_ends: dict[tuple[int, int], dt.date] = {}
    for d in days:
        month_ends[(d.year, d.month)] = d  # ascending: the month's last day wins
    for (year, month), d in month_ends.items():
        if (newest.year - year) * 12 + newest.month - month < monthly:
            keep.add(d)
    return keep


def snapshots_prune(*, written: dt.date, daily: int | None = None, monthly: int | None = None
          ) -> list[dt.date]:
    """Drop the runs and snapshots of the days the retention does not keep (settings
    ANALYTICS_KEEP_DAILY_DAYS and ANALYTICS_KEEP_MONTHLY_MONTHS); returns those days. Run by
    each refresh once its day is written."""
    daily = settings.ANALYTICS_KEEP_DAILY_DAYS if daily is None else daily
    monthly = settings.ANALYTICS_KEEP_MONTHLY_MONTHS if monthly is None else monthly
    days = set(ModelRun.objects.values_list("as_of", flat=True).distinct())
    keep = retained_days(days, written=written, daily=daily, monthly=monthly)
    drop = sorted(days - keep)
    if drop:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    if partitions.partitioned(cursor.cursor):
                        partitions.drop_days(cursor.cursor, drop)
            ScoreSnapshot.objects.filter(as_of__in=drop).delete()
            ModelRun.objects.filter(as_of__in=drop).delete()
    return drop
