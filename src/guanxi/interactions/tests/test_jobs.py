"""The background jobs and the demo data: periodic loops, the command, idempotent demo."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.core.models import JobRun
from guanxi.customers.tests.factories import customer
from guanxi.interactions import queries, tasks
from guanxi.interactions.models import Interaction, Notification, Task, UnfiledMail
from guanxi.interactions.tests.factories import task

pytestmark = pytest.mark.django_db


def test_a_periodic_turn_runs_once_and_a_newer_schedule_stops_the_old(actors, users):
    task(actors["sales1"], "到期", due_in=dt.timedelta(minutes=-1))
    tokens = tasks.schedule(("reminders",))  # runs one turn at once on the immediate backend
    assert Notification.objects.filter(kind="task_reminder").count() == 1
    assert queries.schedule_token("reminders") == tokens["reminders"]
    newer = tasks.schedule(("reminders",))
    assert newer["reminders"] != tokens["reminders"]
    stale = tasks.periodic.enqueue("reminders", tokens["reminders"])
    assert stale.return_value is False
    assert JobRun.objects.filter(kind="interactions.schedule.reminders").count() == 2


def test_the_command(actors, imap_server):
    task(actors["sales1"], "到期", due_in=dt.timedelta(minutes=-1))
    out = io.StringIO()
    call_command("interactions_jobs", "--reminders", "--fetch-mail", stdout=out)
    assert "Sent 1 reminders." in out.getvalue() and "Fetched 0 messages" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("interactions_jobs")


def test_demo_is_quick_and_idempotent(actors, users):
    from guanxi.interactions import demo

    for n in range(30):
        customer(actors["sales1" if n % 2 else "sales2"], f"客户{n}")
    out = io.StringIO()
    demo.load(users=users, seed=7, stdout=out)
    made = Interaction.objects.count()
    assert made > 30 and Task.objects.exists() and UnfiledMail.objects.count() == 2
    assert not Task.objects.filter(done_at__isnull=True, reminded_at__isnull=True,
                                   due_at__lt=dt.datetime.now(dt.UTC)).exists()
    demo.load(users=users, seed=7, stdout=out)
    assert Interaction.objects.count() == made
    assert "already present" in out.getvalue()
