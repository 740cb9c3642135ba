"""Demo analytics: some cost-to-serve entries, then scores as of 90 days ago and today, so
the dashboard shows migration between classes. Idempotent: nothing happens once scored."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from guanxi.analytics import jobs
from guanxi.analytics.models import CostEntry, ModelRun
from guanxi.customers.models import Customer


def load(*, users, seed: int, stdout) -> None:
    if ModelRun.objects.exists():
        return
    rng = random.Random(seed + 6)
    today = timezone.localdate()
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True)[:400])
    CostEntry.objects.bulk_create([
        CostEntry(customer_id=cid, year=today.year, kind=rng.choice(
            ["acquisition", "maintenance", "retention"]),
            amount=Decimal(rng.randrange(50, 3000)), note="demo")
        for cid in rng.sample(ids, min(len(ids), 300))])
    for as_of in (today - dt.timedelta(days=90), today):
        run = jobs.refresh(as_of=as_of)
        stdout.write(f"Scored {run.n_customers} customers as of {as_of}.")
