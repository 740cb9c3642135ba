"""Background work for analytics: the scheduled and on-demand refresh."""

from __future__ import annotations

from django.tasks import task

from guanxi.analytics import services


@task()
def refresh_scores(job_id: int) -> int:
    """Run the refresh recorded in ``core.JobRun`` ``job_id``; returns the ModelRun id."""
    return services.run_refresh_job(job_id=job_id)
