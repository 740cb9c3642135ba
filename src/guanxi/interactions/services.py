"""Every write to interactions, tasks, notifications, unfiled mail and calendar feeds.

Each service opens a transaction, loads what it changes through ``queries`` (locked), checks
the access policy, compares the version, validates (errors keyed by field), saves, writes the
audit record and emits its event on commit. Logging an interaction or sending an email is a
``change`` to the customer; a task is changed within the ``change`` scope of the customer
grants, read through its assignee (own) and the assignee's team (team).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.core import audit
from guanxi.core.access import SYSTEM_USERNAME, Actor, policy
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.models import JobRun, User
from guanxi.core.services import assign, save_versioned, validate
from guanxi.customers import queries as customer_queries
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, Customer
from guanxi.interactions import mail, queries
from guanxi.interactions.models import (
    CalendarFeed,
    Channel,
    Direction,
    Initiator,
    Interaction,
    Notification,
    Task,
    UnfiledMail,
)

log = logging.getLogger(__name__)

INTERACTION_FIELDS = {"channel", "initiator", "direction", "purpose", "subject", "body",
                      "outcome", "follow_up_at", "occurred_at", "duration_minutes",
                      "location", "contact"}
AUDIT_INTERACTION = sorted(INTERACTION_FIELDS | {"customer", "owner", "team",
                                                  "email_message_id", "email_address"})
TASK_FIELDS = {"title", "notes", "customer", "assignee", "due_at", "remind_at"}
AUDIT_TASK = sorted(TASK_FIELDS | {"team", "interaction", "done_at"})


def _site_url(path: str) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# Interactions ---------------------------------------------------------------------------

def _check_interaction(i: Interaction) -> None:
    i.subject = " ".join((i.subject or "").split())[:200]
    i.location = (i.location or "").strip()
    i.outcome = (i.outcome or "").strip()
    validate(i, exclude=["customer", "owner", "team"])
    errors: dict[str, list[str]] = {}
    if i.contact_id and not Contact.objects.filter(pk=i.contact_id,
                                                   organisation_id=i.customer_id).exists():
        errors["contact"] = [gettext("No such contact at this customer.")]
    if i.follow_up_at and i.follow_up_at < i.occurred_at:
        errors["follow_up_at"] = [gettext("The follow-up must come after the interaction.")]
    if i.duration_minutes is not None and i.duration_minutes > 7 * 24 * 60:
        errors["duration_minutes"] = [gettext("At most a week.")]
    if errors:
        raise ValidationError(errors)


def _prepare(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if data.get("occurred_at") is None:
        data.pop("occurred_at", None)
    if "initiator" not in data and data.get("direction") == Direction.INBOUND:
        data["initiator"] = Initiator.CUSTOMER
    if "direction" not in data and data.get("initiator") == Initiator.CUSTOMER:
        data["direction"] = Direction.INBOUND
    return data


def interaction_create(*, actor: Actor, customer_id: int, data: dict[str, Any]) -> Interaction:
    """Log an interaction with a customer on any channel. Action ``change`` on the customer;
    audit ``create``; event ``interactions.interaction_logged``. A follow-up date adds a
    task for the actor, due then."""
    with transaction.atomic():
        customer = customer_queries.customer_for_write(actor=actor, customer_id=customer_id)
        i = Interaction(customer=customer, owner_id=actor.user.pk, team_id=actor.user.team_id)
        assign(i, _prepare(data), allowed=INTERACTION_FIELDS,
               writable=policy.writable_fields(actor, Interaction, "change"))
        _check_interaction(i)
        i.save()
        audit.record(actor, i, "create", {}, audit.snapshot(i, AUDIT_INTERACTION))
        if i.follow_up_at:
            _follow_up_task(actor, i)
        emit("interactions.interaction_logged", interaction_id=i.pk, customer_id=customer.pk,
             channel=i.channel, actor_id=actor.user.pk)
    return i


def _follow_up_task(actor: Actor, i: Interaction) -> Task:
    task = Task(title=(gettext("Follow up: %(subject)s") % {"subject": i.subject})[:200],
                customer_id=i.customer_id, interaction=i, assignee_id=actor.user.pk,
                team_id=actor.user.team_id, due_at=i.follow_up_at, created_by_id=actor.user.pk)
    if not policy.allows(actor, "change", task):
        raise PermissionDenied(gettext("You may not create tasks."))
    task.save()
    audit.record(actor, task, "create", {}, audit.snapshot(task, AUDIT_TASK))
    emit("interactions.task_created", task_id=task.pk, assignee_id=task.assignee_id,
         customer_id=task.customer_id, actor_id=actor.user.pk)
    return task


def interaction_update(*, actor: Actor, interaction_id: int, version: int,
                       changes: dict[str, Any]) -> Interaction:
    """Change a logged interaction (outcome, notes, follow-up, ...). Action ``change``;
    stale ``version`` → Conflict; audit ``update`` on the customer's timeline; event
    ``interactions.interaction_updated``. Mail keeps its channel and direction."""
    with transaction.atomic():
        i = queries.interaction_for_write(actor=actor, interaction_id=interaction_id)
        before = audit.snapshot(i, AUDIT_INTERACTION)
        if i.version != version:
            raise Conflict("This interaction was changed by someone else.",
                           current={**before, "version": i.version},
                           current_version=i.version)
        if i.email_message_id and any(
                k in changes and changes[k] != getattr(i, k) for k in ("channel", "direction")):
            raise ValidationError({"channel": [gettext("Mail keeps its channel and direction.")]})
        changes = {k: v for k, v in changes.items() if not (k == "occurred_at" and v is None)}
        changed = assign(i, changes, allowed=INTERACTION_FIELDS,
                         writable=policy.writable_fields(actor, Interaction, "change"))
        _check_interaction(i)
        if not changed:
            return i
        save_versioned(i, version, changed, "This interaction was changed by someone else.")
        if "follow_up_at" in changed and i.follow_up_at and not i.follow_ups.filter(
                done_at__isnull=True).exists():
            _follow_up_task(actor, i)
        audit.record(actor, i, "update", before, audit.snapshot(i, AUDIT_INTERACTION),
                     customer_id=i.customer_id)
        emit("interactions.interaction_updated", interaction_id=i.pk,
             customer_id=i.customer_id, fields=sorted(changed), actor_id=actor.user.pk)
    return i


def email_send(*, actor: Actor, customer_id: int, to: str, subject: str,
               body: str) -> Interaction:
    """Send a one-to-one email to one of the customer's addresses through the mailer (SMTP)
    and log it as an outbound email interaction carrying its Message-ID, so that replies
    file themselves. Action ``change`` on the customer; audit ``create``; event
    ``interactions.email_sent``. Service mail, not marketing: consent is shown on the form,
    not enforced. A refusing mail server raises :class:`mail.MailError` and nothing is kept."""
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = [gettext("This field is required.")]
    if not body:
        errors["body"] = [gettext("This field is required.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        customer = customer_queries.customer_for_write(actor=actor, customer_id=customer_id)
        address, contact_id = queries.recipient_address(customer_id=customer.pk, key=to)
        message_id = mail.new_message_id()
        i = Interaction(customer=customer, contact_id=contact_id, channel=Channel.EMAIL,
                        initiator=Initiator.COMPANY, direction=Direction.OUTBOUND,
                        subject=subject, body=body, occurred_at=timezone.now(),
                        owner_id=actor.user.pk, team_id=actor.user.team_id,
                        email_message_id=message_id, email_address=address)
        _check_interaction(i)
        i.save()
        audit.record(actor, i, "create", {}, audit.snapshot(i, AUDIT_INTERACTION))
        # Sent last, inside the transaction: a refusal rolls the record back.
        mail.send(to=address, subject=subject, body=body, sender_name=str(actor.user),
                  message_id=message_id)
        emit("interactions.email_sent", interaction_id=i.pk, customer_id=customer.pk,
             actor_id=actor.user.pk)
    return i


# Tasks ----------------------------------------------------------------------------------

def _check_task(actor: Actor, t: Task, changed: Iterable[str]) -> None:
    t.title = " ".join((t.title or "").split())[:200]
    changed = set(changed)
    errors: dict[str, list[str]] = {}
    if "assignee" in changed or t.pk is None:
        assignee = User.objects.filter(pk=t.assignee_id, is_active=True).exclude(
            username=SYSTEM_USERNAME).first() if t.assignee_id else None
        if assignee is None:
            errors["assignee"] = [gettext("Choose an active user.")]
        else:
            t.team_id = assignee.team_id
    if t.customer_id and ({"customer", "assignee"} & changed or t.pk is None):
        try:
            queries.require_customer(actor=actor, customer_id=t.customer_id)
        except NotFound:
            errors["customer"] = [gettext("No such customer.")]
        else:
            assignee = queries.users_by_ids([t.assignee_id]).get(t.assignee_id)
            if assignee is not None and "assignee" not in errors and not _sees_customer(
                    assignee, t.customer_id):
                errors["assignee"] = [gettext("The assignee cannot see this customer.")]
    if errors:
        raise ValidationError(errors)
    validate(t, exclude=["customer", "assignee", "team", "created_by", "interaction"])
    if t.remind_at and t.remind_at > t.due_at:
        raise ValidationError({"remind_at": [gettext("Remind before the task is due.")]})


def _sees_customer(user: User, customer_id: int) -> bool:
    try:
        queries.require_customer(actor=Actor(user=user, channel="system"),
                                 customer_id=customer_id)
    except NotFound:
        return False
    return True


def task_create(*, actor: Actor, data: dict[str, Any]) -> Task:
    """Create a task, assigned to the actor unless another assignee is given (within the
    actor's ``change`` scope: oneself for a rep, the team for a manager). Audit ``create``;
    event ``interactions.task_created``; the assignee, if not the actor, is notified."""
    policy.require_model(actor, Task, "change")
    with transaction.atomic():
        data = dict(data)
        if not data.get("assignee"):
            data["assignee"] = actor.user.pk
        t = Task(created_by_id=actor.user.pk)
        assign(t, data, allowed=TASK_FIELDS, writable=TASK_FIELDS)
        _check_task(actor, t, TASK_FIELDS)
        if not policy.allows(actor, "change", t):
            raise PermissionDenied(gettext("You may not give tasks to that person."))
        t.save()
        audit.record(actor, t, "create", {}, audit.snapshot(t, AUDIT_TASK))
        if t.assignee_id != actor.user.pk:
            _notify_assigned(actor, t)
        emit("interactions.task_created", task_id=t.pk, assignee_id=t.assignee_id,
             customer_id=t.customer_id, actor_id=actor.user.pk)
    return t


def _notify_assigned(actor: Actor, t: Task) -> None:
    notify([t.assignee_id], _("%(who)s gave you a task: %(title)s"),
           _url("task_edit", t.pk), kind="task_assigned",
           params={"who": str(actor.user), "title": t.title})


def task_update(*, actor: Actor, task_id: int, version: int, changes: dict[str, Any]) -> Task:
    """Change a task (title, due date, reminder, assignee, ...). Action ``change`` before and
    after (a rep cannot hand a task outside their scope); stale ``version`` → Conflict;
    audit ``update``; event ``interactions.task_updated``. A new due or reminder time
    arms the reminder again; a new assignee is notified."""
    with transaction.atomic():
        t = queries.task_for_write(actor=actor, task_id=task_id)
        before = audit.snapshot(t, AUDIT_TASK)
        if t.version != version:
            raise Conflict("This task was changed by someone else.",
                           current={**before, "version": t.version}, current_version=t.version)
        changed = assign(t, changes, allowed=TASK_FIELDS, writable=TASK_FIELDS)
        _check_task(actor, t, changed)
        if not changed:
            return t
        if not policy.allows(actor, "change", t):
            raise PermissionDenied(gettext("After this change the task would be outside "
                                           "your scope."))
        fields = set(changed) | {"team"}
        if {"due_at", "remind_at"} & set(changed):
            t.reminded_at = None
            fields.add("reminded_at")
        save_versioned(t, version, fields, "This task was changed by someone else.")
        audit.record(actor, t, "update", before, audit.snapshot(t, AUDIT_TASK),
                     customer_id=t.customer_id)
        if "assignee" in changed and t.assignee_id != actor.user.pk:
            _notify_assigned(actor, t)
        emit("interactions.task_updated", task_id=t.pk, fields=sorted(changed),
             actor_id=actor.user.pk)
    return t


def _set_done(actor: Actor, task_id: int, version: int | None, done: bool) -> Task:
    with transaction.atomic():
        t = queries.task_for_write(actor=actor, task_id=task_id)
        if version is not None and t.version != version:
            raise Conflict("This task was changed by someone else.",
                           current={**audit.snapshot(t, AUDIT_TASK), "version": t.version},
                           current_version=t.version)
        if (t.done_at is not None) == done:
            return t
        old = t.done_at
        t.done_at = timezone.now() if done else None
        Task.objects.filter(pk=t.pk).update(done_at=t.done_at, version=F("version") + 1)
        t.version += 1
        audit.record(actor, t, "update", changes={"done_at": [
            old.isoformat() if old else None, t.done_at.isoformat() if t.done_at else None]})
        emit("interactions.task_completed" if done else "interactions.task_reopened",
             task_id=t.pk, customer_id=t.customer_id, actor_id=actor.user.pk)
    return t


def task_complete(*, actor: Actor, task_id: int, version: int | None = None) -> Task:
    """Mark a task done (idempotent). Action ``change``; audit ``update`` of ``done_at``;
    event ``interactions.task_completed``."""
    return _set_done(actor, task_id, version, True)


def task_reopen(*, actor: Actor, task_id: int, version: int | None = None) -> Task:
    """Open a done task again. Action ``change``; audit; event
    ``interactions.task_reopened``."""
    return _set_done(actor, task_id, version, False)


# Notifications --------------------------------------------------------------------------

def _safe_url(url: str) -> str:
    url = (url or "").strip()
    return url[:300] if url.startswith("/") and not url.startswith("//") else ""


def notify(user_ids: Iterable[int], text: Any, url: str = "", *, kind: str = "",
           params: dict[str, Any] | None = None) -> int:
    """Put a notification in each user's list (active users only, each once). ``text`` may
    be a lazy translation: it is rendered in each recipient's language, then formatted with
    ``params``. ``url`` must be a path on this site. Returns how many were created."""
    ids = sorted({int(u) for u in user_ids if u})
    users = User.objects.filter(pk__in=ids, is_active=True).exclude(username=SYSTEM_USERNAME)
    rows = []
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            message = str(text)
            if params:
                message = message % params
        rows.append(Notification(user=user, kind=kind[:40], text=message[:300],
                                 url=_safe_url(url)))
    Notification.objects.bulk_create(rows)
    return len(rows)


def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's own notifications read (NotFound for anyone else's)."""
    n = queries.notification_get(actor=actor, notification_id=notification_id)
    if n.read_at is None:
        n.read_at = timezone.now()
        Notification.objects.filter(pk=n.pk).update(read_at=n.read_at)
    return n


def notifications_mark_all_read(*, actor: Actor) -> int:
    return Notification.objects.filter(user_id=actor.user.pk, read_at__isnull=True).update(
        read_at=timezone.now())


def reminders_send(*, actor: Actor, now: dt.datetime | None = None) -> int:
    """Send the reminders that are due: a notification for the assignee, and an email when
    the assignee has an address. Each goes out once (``reminded_at`` is claimed first, so
    two workers never both send). Runs as the system actor; returns how many went out."""
    policy.require_model(actor, Task, "view")
    now = now or timezone.now()
    sent = 0
    for t in queries.due_reminders(now=now):
        with transaction.atomic():
            claimed = Task.objects.filter(pk=t.pk, reminded_at__isnull=True,
                                          done_at__isnull=True).update(reminded_at=now)
            if not claimed:
                continue
            path = _url("task_edit", t.pk)
            notify([t.assignee_id], _("Reminder: %(title)s is due %(due)s"), path,
                   kind="task_reminder", params={
                       "title": t.title,
                       "due": timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M")})
        sent += 1
        if t.assignee.email:
            _reminder_mail(t, path)
    return sent


def _reminder_mail(t: Task, path: str) -> None:
    with translation.override(t.assignee.language or settings.LANGUAGE_CODE):
        due = timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M")
        subject = gettext("Reminder: %(title)s") % {"title": t.title}
        lines = [t.title, gettext("Due: %(due)s") % {"due": due}]
        if t.customer_id:
            lines.append(gettext("Customer: %(name)s") % {"name": t.customer.name})
        if t.notes:
            lines += ["", t.notes]
        lines += ["", _site_url(path)]
    try:
        mail.send(to=t.assignee.email, subject=subject, body="\n".join(lines))
    except mail.MailError as exc:
        log.warning("task reminder mail to %s failed: %s", t.assignee.username, exc)


# Fetched mail ---------------------------------------------------------------------------

def mail_fetch(*, actor: Actor, config: mail.MailboxConfig | None = None,
               batch_size: int = 50) -> JobRun:
    """Fetch new messages from the IMAP mailbox and file each on its customer: a reply to
    mail we sent (In-Reply-To, References) goes to that mail's customer, other mail to the
    one customer whose email address (contact point or contact person) sent it; the rest is
    kept as unfiled mail. Resumable: a ``core.JobRun`` keeps the cursor (UIDVALIDITY and last
    UID), moved in each batch's transaction, so a crashed run's successor starts after the
    last committed batch; idempotent by Message-ID, so nothing is filed twice. Needs
    ``change`` on every customer (the system actor); audit ``create`` per interaction."""
    config = config or mail.mailbox_config()
    if config is None:
        raise ValidationError({"IMAP_HOST": [gettext("No mailbox is configured.")]})
    if not queries.may_file_mail(actor):
        raise PermissionDenied(gettext("Only people who may change every customer file mail."))
    run = JobRun.objects.create(kind=queries.MAIL_FETCH_JOB, status=JobRun.Status.RUNNING,
                                actor=actor.user, params={"mailbox": config.name},
                                cursor=queries.mail_fetch_cursor(mailbox=config.name))
    counts: Counter[str] = Counter()
    try:
        with mail.Mailbox(config) as box:
            validity, _sep, last = run.cursor.partition(":")
            last_uid = int(last) if last.isdigit() and validity == str(box.uidvalidity) else 0
            uids = box.uids_after(last_uid)
            run.total = len(uids)
            JobRun.objects.filter(pk=run.pk).update(total=run.total)
            for start in range(0, len(uids), batch_size):
                chunk = uids[start:start + batch_size]
                messages = [mail.parse(box.fetch(uid), uid=uid) for uid in chunk]
                with transaction.atomic():
                    for fetched in messages:
                        counts[file_fetched(actor=actor, fetched=fetched)] += 1
                    run.cursor = f"{box.uidvalidity}:{chunk[-1]}"
                    run.done += len(chunk)
                    JobRun.objects.filter(pk=run.pk).update(cursor=run.cursor, done=run.done)
    except Exception as exc:
        JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.FAILED,
                                                error=str(exc)[:2000],
                                                params={**run.params, **counts})
        raise
    run.status = JobRun.Status.DONE
    run.params = {**run.params, **counts}
    JobRun.objects.filter(pk=run.pk).update(status=run.status, params=run.params)
    return run


def file_fetched(*, actor: Actor, fetched: mail.FetchedMail) -> str:
    """File one fetched message: ``"filed"``, ``"unfiled"`` or ``"known"`` (seen before)."""
    if queries.message_known(fetched.message_id):
        return "known"
    customer_id, contact_id, reason = None, None, ""
    original = queries.interaction_by_message_ids(fetched.references)
    if original is not None:
        customer_id, contact_id = original.customer_id, original.contact_id
    else:
        matches = queries.customers_by_email(fetched.from_address)
        if len(matches) == 1:
            customer_id, contact_id = matches[0]
        else:
            reason = "several customers" if matches else "unknown sender"
    try:
        with transaction.atomic():
            if customer_id is None:
                UnfiledMail.objects.create(
                    message_id=fetched.message_id, from_address=fetched.from_address[:254],
                    from_name=fetched.from_name, to_address=fetched.to, subject=fetched.subject,
                    body=fetched.body, received_at=fetched.date, reason=reason)
                emit("interactions.mail_unfiled", message_id=fetched.message_id)
                return "unfiled"
            _file_inbound(actor, customer_id, contact_id, fetched.message_id,
                          fetched.from_address, fetched.subject, fetched.body, fetched.date)
    except IntegrityError:  # another worker filed it a moment ago
        return "known"
    return "filed"


def _file_inbound(actor: Actor, customer_id: int, contact_id: int | None, message_id: str,
                  address: str, subject: str, body: str, at: dt.datetime) -> Interaction:
    customer = customer_queries.customer_for_write(actor=actor, customer_id=customer_id)
    i = Interaction(customer=customer, contact_id=contact_id, channel=Channel.EMAIL,
                    initiator=Initiator.CUSTOMER, direction=Direction.INBOUND,
                    subject=subject or gettext("(no subject)"), body=body, occurred_at=at,
                    owner_id=actor.user.pk, team_id=actor.user.team_id,
                    email_message_id=message_id, email_address=address[:254])
    _check_interaction(i)
    i.save()
    audit.record(actor, i, "create", {}, audit.snapshot(i, AUDIT_INTERACTION))
    if customer.owner_id != actor.user.pk:
        notify([customer.owner_id], _("Email from %(customer)s: %(subject)s"),
               _url("interaction_detail", i.pk), kind="mail_received",
               params={"customer": customer.name, "subject": i.subject})
    emit("interactions.email_received", interaction_id=i.pk, customer_id=customer.pk)
    return i


def unfiled_file(*, actor: Actor, unfiled_id: int, customer_id: int,
                 remember_address: bool = False) -> Interaction:
    """File an unfiled message on a customer (the actor must be able to change it), and
    optionally keep the sender's address as the customer's email contact point so that
    later mail files itself. Audit ``create``; event ``interactions.email_received``."""
    with transaction.atomic():
        u = queries.unfiled_for_write(actor=actor, unfiled_id=unfiled_id)
        try:
            customer_queries.customer_for_write(actor=actor, customer_id=customer_id)
        except NotFound:
            raise ValidationError({"customer": [gettext("No such customer.")]}) from None
        data = (u.message_id, u.from_address, u.subject, u.body, u.received_at)
        u.delete()
        i = _file_inbound(actor, customer_id, None, *data)
        if remember_address and u.from_address and not any(
                c == customer_id for c, _contact in queries.customers_by_email(u.from_address)):
            customer_services.contact_point_add(actor=actor, customer_id=customer_id,
                                                kind="email", value=u.from_address)
    return i


def unfiled_discard(*, actor: Actor, unfiled_id: int) -> None:
    """Throw an unfiled message away (spam, newsletters). Audit ``delete``."""
    with transaction.atomic():
        u = queries.unfiled_for_write(actor=actor, unfiled_id=unfiled_id)
        audit.record(actor, u, "delete", {"from_address": u.from_address,
                                          "subject": u.subject}, {})
        u.delete()


# Calendar feed --------------------------------------------------------------------------

def calendar_feed_create(*, actor: Actor) -> str:
    """Issue the actor's secret calendar feed key (revoking any earlier one). Returns the
    key, shown once; only its hash is kept. Audit ``create``."""
    key = CalendarFeed.new_key()
    with transaction.atomic():
        CalendarFeed.objects.filter(user=actor.user, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        feed = CalendarFeed.objects.create(user=actor.user, prefix=key[:10],
                                           key_hash=CalendarFeed.hash_key(key))
        audit.record(actor, feed, "create", {}, {"user": actor.user.username,
                                                 "prefix": feed.prefix})
    return key


def calendar_feed_revoke(*, actor: Actor) -> bool:
    """Revoke the actor's calendar feed; its address stops working at once. Audit."""
    with transaction.atomic():
        feed = CalendarFeed.objects.filter(user=actor.user, revoked_at__isnull=True).first()
        if feed is None:
            return False
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit.record(actor, feed, "update", changes={"revoked_at": [None, "now"]})
    return True


# Periodic jobs --------------------------------------------------------------------------

def schedule_start(*, actor: Actor, kind: str) -> str:
    """Start (or restart) a periodic job's loop; an older loop of the same kind stops at its
    next turn because its token is no longer the newest."""
    from guanxi.core.queries import require_admin

    require_admin(actor)
    token = uuid.uuid4().hex
    JobRun.objects.create(kind=f"interactions.schedule.{kind}", status=JobRun.Status.RUNNING,
                          actor=actor.user, params={"token": token})
    return token


# Bulk creation (demo data, imports) -----------------------------------------------------

def interactions_bulk_create(*, actor: Actor, rows: list[dict[str, Any]],
                             batch_size: int = 1000) -> int:
    """Create many interactions at once. Each row names ``customer``, ``owner`` and the
    fields of :data:`INTERACTION_FIELDS`; every customer must lie in the actor's ``change``
    scope; each row is validated; one transaction per batch, audited in bulk."""
    ids = sorted({int(r["customer"]) for r in rows})
    in_scope = set(policy.scope(Customer.objects.filter(pk__in=ids), actor, "change")
                   .values_list("id", flat=True))
    if len(in_scope) != len(ids):
        raise NotFound("customer not found")
    teams = dict(User.objects.filter(pk__in={r["owner"] for r in rows}).values_list(
        "id", "team_id"))
    created = 0
    for start in range(0, len(rows), batch_size):
        batch = []
        for n, row in enumerate(rows[start:start + batch_size], start):
            data = {k: v for k, v in row.items() if k in INTERACTION_FIELDS}
            i = Interaction(customer_id=row["customer"], owner_id=row["owner"],
                            team_id=teams.get(row["owner"]))
            assign(i, _prepare(data), allowed=INTERACTION_FIELDS, writable=INTERACTION_FIELDS)
            try:
                validate(i, exclude=["customer", "owner", "team", "contact"])
            except ValidationError as exc:
                raise ValidationError({f"row {n}.{k}": v for k, v in
                                       exc.message_dict.items()}) from None
            batch.append(i)
        with transaction.atomic():
            Interaction.objects.bulk_create(batch)
            audit.record_many(actor, [(i, "create", audit.diff(
                {}, audit.snapshot(i, AUDIT_INTERACTION)), None) for i in batch])
        created += len(batch)
    return created


def tasks_bulk_create(*, actor: Actor, rows: list[dict[str, Any]]) -> int:
    """Create many tasks at once (demo data, imports): rows of :data:`TASK_FIELDS` plus
    optional ``done_at`` and ``reminded_at``; each must lie in the actor's ``change`` scope.
    Audited in bulk."""
    users = {u.pk: u for u in User.objects.filter(pk__in={r["assignee"] for r in rows})}
    batch = []
    for row in rows:
        t = Task(created_by_id=actor.user.pk, done_at=row.get("done_at"),
                 reminded_at=row.get("reminded_at"))
        assign(t, {k: v for k, v in row.items() if k in TASK_FIELDS}, allowed=TASK_FIELDS,
               writable=TASK_FIELDS)
        t.team_id = users[t.assignee_id].team_id
        if not policy.allows(actor, "change", t):
            raise PermissionDenied(gettext("You may not give tasks to that person."))
        batch.append(t)
    with transaction.atomic():
        Task.objects.bulk_create(batch, batch_size=1000)
        audit.record_many(actor, [(t, "create", audit.diff(
            {}, audit.snapshot(t, AUDIT_TASK)), None) for t in batch])
    return len(batch)


# Notifications for other apps' events (subscribed in apps.ready) --------------------------

def on_quote_approval_requested(name: str, payload: dict[str, Any]) -> None:
    """``sales.quote_approval_requested`` (``quote_id``; optional ``approver_ids`` and
    ``actor_id``): notify those who may approve the quote."""
    quote = queries.model_instance("sales.quote", payload.get("quote_id"))
    if quote is None:
        return
    ids = payload.get("approver_ids") or queries.approvers_for(quote, "approve")
    ids = [i for i in ids if i != payload.get("actor_id")]
    notify(ids, _("Quote %(number)s awaits your approval."),
           _url("quote_detail", quote.pk), kind="quote_approval",
           params={"number": getattr(quote, "number", quote.pk)})


def on_customer_updated(name: str, payload: dict[str, Any]) -> None:
    """``customers.customer_updated`` with ``owner`` among the fields: tell the new owner
    (DOMAIN.md section 12, a leaver's accounts reassigned)."""
    if "owner" not in (payload.get("fields") or []):
        return
    customer = queries.model_instance("customers.customer", payload.get("customer_id"))
    if customer is None or customer.owner_id == payload.get("actor_id"):
        return
    notify([customer.owner_id], _("You are now the owner of %(name)s."),
           _url("customer_detail", customer.pk), kind="customer_assigned",
           params={"name": customer.name})
