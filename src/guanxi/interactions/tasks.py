"""Background jobs: fetch the shared mailbox, send due task reminders, and the periodic loop
that runs both. Arguments are JSON only; each job rebuilds the system actor (channel
``task``) and calls one service.

Start the loops once per installation with ``guanxi manage interactions_jobs --schedule``
(a later call replaces the running loops); the worker (``guanxi worker``) runs them.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.tasks import default_task_backend, task
from django.utils import timezone

from guanxi.core.access import Actor
from guanxi.interactions import mail, queries, services

log = logging.getLogger(__name__)


@task
def fetch_mail() -> dict:
    """Fetch and file new mail from the mailbox in settings (IMAP_HOST ...)."""
    run = services.mail_fetch(actor=Actor.system("task"))
    return {"job_id": run.pk, "status": run.status, "done": run.done}


@task
def send_reminders() -> int:
    """Send the task reminders that are due."""
    return services.reminders_send(actor=Actor.system("task"))


def _interval(kind: str) -> int:
    if kind == "mail":
        return int(getattr(settings, "MAIL_FETCH_INTERVAL", 300))
    return int(getattr(settings, "REMINDER_INTERVAL", 60))


def _run(kind: str) -> None:
    actor = Actor.system("task")
    if kind == "mail":
        if mail.mailbox_config() is not None:
            services.mail_fetch(actor=actor)
    else:
        services.reminders_send(actor=actor)


@task
def periodic(kind: str, token: str) -> bool:
    """One turn of a periodic loop (``mail`` or ``reminders``): run the job, then queue the
    next turn after the interval. A loop whose token is no longer the newest stops, so
    scheduling again never doubles the work. Returns whether the loop goes on."""
    if kind not in ("mail", "reminders") or queries.schedule_token(kind) != token:
        return False
    try:
        _run(kind)
    except Exception:  # a failed turn (mail server down) must not end the loop
        log.exception("periodic %s job failed", kind)
    if not default_task_backend.supports_defer:
        return False
    run_after = timezone.now() + dt.timedelta(seconds=_interval(kind))
    periodic.using(run_after=run_after).enqueue(kind, token)
    return True


def schedule(kinds: tuple[str, ...] = ("mail", "reminders")) -> dict[str, str]:
    """Start (or restart) the periodic loops; returns their tokens."""
    actor = Actor.system("task")
    tokens = {}
    for kind in kinds:
        tokens[kind] = services.schedule_start(actor=actor, kind=kind)
        periodic.enqueue(kind, tokens[kind])
    return tokens
