"""Background work of the sales app. Arguments are JSON only (ids); each task rebuilds its
actor and calls a service, which keeps the progress and the resume point in the job row."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from guanxi.sales.queries.orders import job_actor
from guanxi.sales.services import orders


@task
def import_orders_csv(*, job_id: int, actor_id: int) -> dict[str, Any]:
    """Import (or resume importing) an uploaded CSV file of orders for the user who sent
    it, through the import channel."""
    actor = job_actor(actor_id=actor_id, channel="import")
    return orders.order_import_job_run(actor=actor, job_id=job_id)
