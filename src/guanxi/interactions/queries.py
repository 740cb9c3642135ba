"""Every read of interactions, tasks, notifications, unfiled mail and calendar feeds, scoped
by the acting user (and masked where personal data shows).

Pages, the API, the calendar feed, the manager dashboard and the customer timeline call these
functions; there is no second read path.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import SYSTEM_USERNAME, Actor, mask_instance, policy
from guanxi.core.exceptions import NotFound, PermissionDenied, ValidationError
from guanxi.core.models import JobRun, User
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.core.timeline import Entry
from guanxi.customers.models import Consent, Contact, ContactPoint, Customer
from guanxi.interactions.models import (
    CalendarFeed,
    Interaction,
    Notification,
    Task,
    UnfiledMail,
)

MAIL_FETCH_JOB = "interactions.mail_fetch"
TASK_VIEWS = ("mine", "team", "overdue", "done")


def _limit(limit: int | None) -> int:
    return max(1, min(limit or settings.LIST_PAGE_SIZE, 200))


def _mask(actor: Actor, rows: list[Any]) -> list[Any]:
    """Mask the rows and the customers they carry, for actors without personal data."""
    if policy.sees_pii(actor):
        return rows
    for row in rows:
        mask_instance(row)
        customer = row._state.fields_cache.get("customer") if hasattr(row, "_state") else None
        if customer is not None:
            mask_instance(customer)
    return rows


def require_customer(*, actor: Actor, customer_id: int) -> Customer:
    """The customer (masked) if the actor may see it; NotFound otherwise."""
    try:
        obj = policy.scope(Customer.objects.all(), actor).only(
            "id", "name", "kind", "owner_id", "team_id", "primary_email", "primary_phone",
            "version").get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound("customer not found") from None
    return policy.mask(actor, obj)


# Interactions ---------------------------------------------------------------------------

def _interactions(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Interaction.objects.all(), actor, action)


def interaction_list(*, actor: Actor, customer_id: int | None = None, channel: str = "",
                     owner_id: int | None = None, cursor: str | None = None,
                     limit: int | None = None) -> Page[Interaction]:
    """Interactions the actor may see, newest first; one customer's when ``customer_id`` is
    given (NotFound when that customer is out of scope)."""
    qs = _interactions(actor).select_related("owner", "contact", "customer")
    if customer_id is not None:
        require_customer(actor=actor, customer_id=customer_id)
        qs = qs.filter(customer_id=customer_id)
    if channel:
        qs = qs.filter(channel=channel)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    page = paginate(qs, Sort("occurred_at", True), cursor=cursor, limit=_limit(limit))
    _mask(actor, page.items)
    return page


def interaction_get(*, actor: Actor, interaction_id: int) -> Interaction:
    try:
        obj = _interactions(actor).select_related("owner", "contact", "customer").get(
            pk=interaction_id)
    except (Interaction.DoesNotExist, ValueError, TypeError):
        raise NotFound("interaction not found") from None
    return _mask(actor, [obj])[0]


def interaction_for_write(*, actor: Actor, interaction_id: int,
                          action: str = "change") -> Interaction:
    """The unmasked row, locked, for a service: NotFound outside the view scope,
    PermissionDenied outside the ``action`` scope."""
    try:
        obj = Interaction.objects.select_for_update().select_related("customer").get(
            pk=interaction_id)
    except (Interaction.DoesNotExist, ValueError, TypeError):
        raise NotFound("interaction not found") from None
    policy.require(actor, action, obj)
    return obj


def contact_choices(*, actor: Actor, customer_id: int) -> list[Contact]:
    """The customer's contact persons (for the interaction form), masked."""
    require_customer(actor=actor, customer_id=customer_id)
    rows = list(policy.scope(Contact.objects.filter(organisation_id=customer_id), actor))
    return policy.mask(actor, rows)


# Tasks ----------------------------------------------------------------------------------

def _tasks(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Task.objects.all(), actor, action)


def task_list(*, actor: Actor, view: str = "mine", customer_id: int | None = None,
              cursor: str | None = None, limit: int | None = None) -> Page[Task]:
    """Tasks by view: ``mine`` (open, assigned to me), ``team`` (open, my team's; mine when
    I have no team), ``overdue`` (open and past due, all I may see), ``done`` (mine, newest
    first). Open tasks come soonest due first."""
    if view not in TASK_VIEWS:
        raise ValidationError({"view": [f"Choose one of: {', '.join(TASK_VIEWS)}."]})
    qs = _tasks(actor).select_related("assignee", "customer")
    if customer_id is not None:
        require_customer(actor=actor, customer_id=customer_id)
        qs = qs.filter(customer_id=customer_id)
    sort = Sort("due_at", False)
    if view == "mine":
        qs = qs.filter(assignee_id=actor.user.pk, done_at__isnull=True)
    elif view == "team":
        qs = qs.filter(done_at__isnull=True)
        qs = (qs.filter(team_id=actor.user.team_id) if actor.user.team_id
              else qs.filter(assignee_id=actor.user.pk))
    elif view == "overdue":
        qs = qs.filter(done_at__isnull=True, due_at__lt=timezone.now())
    else:
        qs = qs.filter(assignee_id=actor.user.pk, done_at__isnull=False)
        sort = Sort("done_at", True)
    page = paginate(qs, sort, cursor=cursor, limit=_limit(limit))
    _mask(actor, page.items)
    return page


def task_get(*, actor: Actor, task_id: int) -> Task:
    try:
        obj = _tasks(actor).select_related("assignee", "customer", "created_by").get(
            pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound("task not found") from None
    return _mask(actor, [obj])[0]


def task_for_write(*, actor: Actor, task_id: int, action: str = "change") -> Task:
    try:
        obj = Task.objects.select_for_update().get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound("task not found") from None
    policy.require(actor, action, obj)
    return obj


def follow_ups(*, actor: Actor, interaction_id: int) -> list[Task]:
    """The follow-up tasks of an interaction that the actor may see."""
    return list(_tasks(actor).filter(interaction_id=interaction_id).select_related("assignee")
                .order_by("due_at", "id"))


def customer_tasks(*, actor: Actor, customer_id: int, limit: int = 50) -> list[Task]:
    """A customer's open tasks the actor may see, soonest due first."""
    require_customer(actor=actor, customer_id=customer_id)
    qs = (_tasks(actor).filter(customer_id=customer_id, done_at__isnull=True)
          .select_related("assignee").order_by("due_at", "id"))
    return list(qs[:limit])


def overdue_tasks(*, actor: Actor, limit: int = 100) -> list[Task]:
    """Open tasks past their due time that the actor may see, the longest overdue first
    (for the manager dashboard)."""
    qs = (_tasks(actor).filter(done_at__isnull=True, due_at__lt=timezone.now())
          .select_related("assignee", "customer").order_by("due_at", "id"))
    return _mask(actor, list(qs[:limit]))


def assignee_choices(*, actor: Actor) -> list[User]:
    """People the actor may give a task to: those whose tasks fall inside the actor's
    ``change`` scope (oneself for a rep, the team for a manager, everyone for ``all``)."""
    scope = policy.scope_name(actor, Task, "change")
    qs = User.objects.filter(is_active=True).exclude(username=SYSTEM_USERNAME)
    if scope == "team" and actor.user.team_id:
        qs = qs.filter(team_id=actor.user.team_id)
    elif scope in ("own", "team"):
        qs = qs.filter(pk=actor.user.pk)
    elif scope != "all":
        qs = qs.none()
    return list(qs.select_related("team").order_by("username"))


def users_by_ids(ids: list[int]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("role", "team")}


def due_reminders(*, now: dt.datetime, limit: int = 500) -> list[Task]:
    """Open tasks whose reminder time (``remind_at``, else ``due_at``) has come and whose
    reminder has not gone out (for the system's reminder job)."""
    return list(Task.objects.filter(done_at__isnull=True, reminded_at__isnull=True)
                .annotate(when=Coalesce("remind_at", "due_at")).filter(when__lte=now)
                .select_related("assignee", "customer").order_by("when", "id")[:limit])


# Dashboard ------------------------------------------------------------------------------

def activities_per_rep(*, actor: Actor, start: dt.datetime, end: dt.datetime
                       ) -> list[tuple[User, int]]:
    """Interactions logged per person in ``[start, end)`` among those the actor may see,
    most active first; members of the actor's team with none are listed with 0. Mail filed
    by the system is not anyone's activity."""
    counts = dict(
        _interactions(actor).filter(occurred_at__gte=start, occurred_at__lt=end)
        .exclude(owner__username=SYSTEM_USERNAME)
        .values_list("owner_id").annotate(n=Count("id")).order_by()
    )
    ids = set(counts)
    if actor.user.team_id and policy.can(actor, Interaction, "view"):
        ids |= set(User.objects.filter(team_id=actor.user.team_id, is_active=True)
                   .values_list("id", flat=True))
    users = users_by_ids(list(ids))
    rows = [(users[uid], counts.get(uid, 0)) for uid in ids if uid in users]
    rows.sort(key=lambda r: (-r[1], str(r[0])))
    return rows


# Calendar -------------------------------------------------------------------------------

@dataclass
class CalendarItem:
    """One entry of the calendar and of the iCalendar feed."""

    uid: str
    kind: str  # "interaction" or "task"
    start: dt.datetime
    end: dt.datetime | None
    title: str
    who: str
    customer: str
    url: str
    icon: str
    done: bool = False
    overdue: bool = False
    description: str = ""
    updated: dt.datetime | None = None


def calendar_items(*, actor: Actor, start: dt.datetime, end: dt.datetime,
                   who: str = "mine") -> list[CalendarItem]:
    """Interactions and tasks in ``[start, end)``: ``mine`` (logged by or assigned to the
    actor) or ``team`` (the actor's team; mine when without a team), within the actor's
    scope, in time order."""
    if who not in ("mine", "team"):
        raise ValidationError({"who": ["Choose mine or team."]})
    team_id = actor.user.team_id if who == "team" else None
    inter = _interactions(actor).filter(occurred_at__gte=start, occurred_at__lt=end)
    tasks = _tasks(actor).filter(due_at__gte=start, due_at__lt=end)
    if team_id:
        inter, tasks = inter.filter(team_id=team_id), tasks.filter(team_id=team_id)
    else:
        inter = inter.filter(owner_id=actor.user.pk)
        tasks = tasks.filter(assignee_id=actor.user.pk)
    inter_rows = _mask(actor, list(inter.select_related("owner", "customer")[:2000]))
    task_rows = _mask(actor, list(tasks.select_related("assignee", "customer")[:2000]))
    items = [_interaction_item(i) for i in inter_rows] + [_task_item(t) for t in task_rows]
    items.sort(key=lambda i: (i.start, i.uid))
    return items


def _interaction_item(i: Interaction) -> CalendarItem:
    end = (i.occurred_at + dt.timedelta(minutes=i.duration_minutes)
           if i.duration_minutes else None)
    return CalendarItem(
        uid=f"interaction-{i.pk}", kind="interaction", start=i.occurred_at, end=end,
        title=f"{i.get_channel_display()}: {i.subject}", who=str(i.owner),
        customer=i.customer.name, url=reverse("interaction_detail", args=[i.pk]),
        icon=i.icon, description="\n".join(p for p in (i.outcome, i.body) if p),
        updated=i.created_at)


def _task_item(t: Task) -> CalendarItem:
    return CalendarItem(
        uid=f"task-{t.pk}", kind="task", start=t.due_at, end=None, title=t.title,
        who=str(t.assignee), customer=t.customer.name if t.customer_id else "",
        url=reverse("task_edit", args=[t.pk]), icon="checkbox", done=t.is_done,
        overdue=t.is_overdue, description=t.notes, updated=t.done_at or t.created_at)


def feed_user(*, key: str) -> User | None:
    """The active owner of an unrevoked calendar feed key (noting its use once an hour)."""
    feed = (CalendarFeed.objects.select_related("user", "user__role")
            .filter(key_hash=CalendarFeed.hash_key(key or ""), revoked_at__isnull=True).first())
    if feed is None or not feed.user.is_active:
        return None
    now = timezone.now()
    if feed.last_used_at is None or (now - feed.last_used_at).total_seconds() > 3600:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


def feed_of(*, actor: Actor) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=actor.user, revoked_at__isnull=True).first()


# Notifications --------------------------------------------------------------------------

def notification_list(*, actor: Actor, unread_only: bool = False, cursor: str | None = None,
                      limit: int | None = None) -> Page[Notification]:
    """The actor's own notifications, newest first."""
    qs = Notification.objects.filter(user_id=actor.user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return paginate(qs, Sort("id", True), cursor=cursor, limit=_limit(limit))


def unread_count(*, actor: Actor) -> int:
    return Notification.objects.filter(user_id=actor.user.pk, read_at__isnull=True).count()


def notification_get(*, actor: Actor, notification_id: int) -> Notification:
    try:
        return Notification.objects.get(pk=notification_id, user_id=actor.user.pk)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise NotFound("notification not found") from None


def approvers_for(obj: Any, action: str = "approve") -> list[int]:
    """Active users whose grants let them ``action`` ``obj`` (e.g. approve a quote)."""
    from guanxi.core.access import _path_for, model_label

    path = _path_for(type(obj))
    label = path.grants_from or model_label(obj)
    users = (User.objects.filter(is_active=True, role__grants__model=label,
                                 role__grants__action=action)
             .exclude(username=SYSTEM_USERNAME)
             .select_related("role").distinct())
    return [u.pk for u in users if policy.allows(Actor(user=u, channel="system"), action, obj)]


def model_instance(label: str, pk: Any) -> Any | None:
    """One row of another app's model by label and id (for event handlers that notify)."""
    from django.apps import apps

    try:
        model = apps.get_model(label)
        return model._default_manager.filter(pk=pk).first()
    except (LookupError, ValueError, TypeError):
        return None


# Mail -----------------------------------------------------------------------------------

@dataclass
class Recipient:
    key: str  # "cp:<id>" or "contact:<id>"
    label: str
    address: str


def email_recipients(*, actor: Actor, customer_id: int) -> list[Recipient]:
    """The customer's email addresses to choose from: email contact points and the emails of
    contact persons (masked for actors without personal data)."""
    require_customer(actor=actor, customer_id=customer_id)
    out: list[Recipient] = []
    points = policy.mask(actor, list(ContactPoint.objects.filter(
        customer_id=customer_id, kind="email").order_by("-is_primary", "id")))
    for p in points:
        out.append(Recipient(f"cp:{p.pk}", p.label or _("email"), p.value))
    contacts = policy.mask(actor, list(Contact.objects.filter(organisation_id=customer_id)
                                       .exclude(email="").order_by("-is_primary", "name")))
    for c in contacts:
        out.append(Recipient(f"contact:{c.pk}", c.name, c.email))
    return out


def recipient_address(*, customer_id: int, key: str) -> tuple[str, int | None]:
    """The real address behind a recipient key of this customer, and the contact's id."""
    kind, _sep, raw = (key or "").partition(":")
    if raw.isdigit():
        if kind == "cp":
            point = ContactPoint.objects.filter(pk=int(raw), customer_id=customer_id,
                                                kind="email").first()
            if point is not None:
                return point.value, point.contact_id
        elif kind == "contact":
            contact = Contact.objects.filter(pk=int(raw), organisation_id=customer_id).exclude(
                email="").first()
            if contact is not None:
                return contact.email, contact.pk
    raise ValidationError({"to": [_("Choose one of the customer's email addresses.")]})


@dataclass
class ConsentState:
    service: bool | None  # None: nothing recorded
    marketing: bool | None


def email_consent(*, actor: Actor, customer_id: int) -> ConsentState:
    """The consent in force for email (a decision for email wins over "any channel")."""
    require_customer(actor=actor, customer_id=customer_id)
    rows = list(Consent.objects.filter(customer_id=customer_id, channel__in=["email", "any"],
                                       purpose__in=["service", "marketing"])
                .order_by("-at", "-id"))

    def state(purpose: str) -> bool | None:
        for channel in ("email", "any"):
            row = next((r for r in rows if r.purpose == purpose and r.channel == channel), None)
            if row is not None:
                return row.granted
        return None

    return ConsentState(service=state("service"), marketing=state("marketing"))


def customers_by_email(address: str) -> list[tuple[int, int | None]]:
    """(customer id, contact id) pairs whose email is ``address`` (case-insensitive): email
    contact points first, then contact persons' emails. For filing fetched mail."""
    norm = (address or "").strip().lower()
    if not norm:
        return []
    found = list(ContactPoint.objects.filter(kind="email", normalized=norm)
                 .values_list("customer_id", "contact_id").order_by("id"))
    seen = {c for c, _ in found}
    for org_id, contact_id in (Contact.objects.filter(email__iexact=norm)
                               .values_list("organisation_id", "id").order_by("id")):
        if org_id not in seen:
            found.append((org_id, contact_id))
            seen.add(org_id)
    return found


def interaction_by_message_ids(message_ids: list[str]) -> Interaction | None:
    """The interaction that carries one of ``message_ids`` (a reply's In-Reply-To and
    References), the newest reference winning."""
    ids = [m for m in message_ids if m]
    if not ids:
        return None
    rows = {i.email_message_id: i for i in Interaction.objects.filter(
        email_message_id__in=ids).select_related("customer")}
    for mid in reversed(ids):
        if mid in rows:
            return rows[mid]
    return None


def message_known(message_id: str) -> bool:
    """Whether a fetched message was already filed or collected as unfiled."""
    return (Interaction.objects.filter(email_message_id=message_id).exists()
            or UnfiledMail.objects.filter(message_id=message_id).exists())


def may_file_mail(actor: Actor) -> bool:
    """Unfiled mail may come from anyone: only actors who may change every customer see it."""
    return policy.scope_name(actor, Customer, "change") == "all"


def _require_filer(actor: Actor) -> None:
    if not may_file_mail(actor):
        raise PermissionDenied(_("Only people who may change every customer file mail."))


def unfiled_list(*, actor: Actor, cursor: str | None = None, limit: int | None = None
                 ) -> Page[UnfiledMail]:
    _require_filer(actor)
    return paginate(UnfiledMail.objects.all(), Sort("id", True), cursor=cursor,
                    limit=_limit(limit))


def unfiled_count(*, actor: Actor) -> int:
    return UnfiledMail.objects.count() if may_file_mail(actor) else 0


def unfiled_for_write(*, actor: Actor, unfiled_id: int) -> UnfiledMail:
    _require_filer(actor)
    try:
        return UnfiledMail.objects.select_for_update().get(pk=unfiled_id)
    except (UnfiledMail.DoesNotExist, ValueError, TypeError):
        raise NotFound("unfiled mail not found") from None


def mail_fetch_cursor(*, mailbox: str) -> str:
    """Where the last fetch of ``mailbox`` stopped (``uidvalidity:last uid``), whether that
    run finished or crashed."""
    run = (JobRun.objects.filter(kind=MAIL_FETCH_JOB, params__mailbox=mailbox)
           .exclude(cursor="").order_by("-id").first())
    return run.cursor if run else ""


def mail_fetch_runs(*, actor: Actor, limit: int = 5) -> list[JobRun]:
    _require_filer(actor)
    return list(JobRun.objects.filter(kind=MAIL_FETCH_JOB).order_by("-id")[:limit])


def job_run(job_id: int) -> JobRun | None:
    return JobRun.objects.filter(pk=job_id).first()


def schedule_token(kind: str) -> str:
    """The token of the newest schedule of a periodic job (an older loop stops)."""
    run = JobRun.objects.filter(kind=f"interactions.schedule.{kind}").order_by("-id").first()
    return (run.params or {}).get("token", "") if run else ""


# The customer's timeline ----------------------------------------------------------------

def _interaction_entries(actor: Actor, customer_id: int, limit: int,
                         before: dt.datetime | None) -> list[Entry]:
    qs = _interactions(actor).filter(customer_id=customer_id)
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    rows = _mask(actor, list(qs.select_related("owner").order_by("-occurred_at", "-id")[:limit]))
    out = []
    for i in rows:
        meta = [i.get_direction_display(), i.get_initiator_display()]
        if i.outcome:
            meta.append(_("outcome: %(outcome)s") % {"outcome": i.outcome})
        if i.follow_up_at:
            meta.append(_("follow up on %(date)s") % {
                "date": timezone.localtime(i.follow_up_at).strftime("%Y-%m-%d")})
        out.append(Entry(at=i.occurred_at, kind="interaction", icon=i.icon,
                         title=f"{i.get_channel_display()}: {i.subject}", actor=str(i.owner),
                         channel=i.get_channel_display(),
                         url=reverse("interaction_detail", args=[i.pk]),
                         body=" · ".join(meta)))
    return out


def _task_entries(actor: Actor, customer_id: int, limit: int,
                  before: dt.datetime | None) -> list[Entry]:
    # A task stands on the timeline at its completion, or at its due time while open.
    qs = _tasks(actor).filter(customer_id=customer_id).annotate(
        shown_at=Coalesce("done_at", "due_at"))
    if before is not None:
        qs = qs.filter(shown_at__lt=before)
    rows = list(qs.select_related("assignee").order_by("-shown_at", "-id")[:limit])
    out = []
    for t in rows:
        if t.done_at:
            title = _("Task done: %(title)s") % {"title": t.title}
        elif t.is_overdue:
            title = _("Task overdue: %(title)s") % {"title": t.title}
        else:
            title = _("Task: %(title)s") % {"title": t.title}
        due = timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M")
        out.append(Entry(at=t.done_at or t.due_at, kind="task",
                         icon="circle-check" if t.done_at else "checkbox", title=title,
                         actor=str(t.assignee), url=reverse("task_edit", args=[t.pk]),
                         body=_("due %(due)s") % {"due": due}))
    return out


PROVIDERS = {"interaction": _interaction_entries, "task": _task_entries}


# Demo -----------------------------------------------------------------------------------

def demo_state() -> tuple[int, list[tuple[int, int, int | None]]]:
    """How many interactions exist, and (id, owner, team) of the customers to seed."""
    existing = Interaction.objects.count()
    customers = list(Customer.objects.order_by("id").values_list("id", "owner_id", "team_id"))
    return existing, customers


def customer_names(ids: list[int]) -> dict[int, str]:
    return dict(Customer.objects.filter(pk__in=ids).values_list("id", "name"))


def counts_by_channel(*, actor: Actor, customer_id: int) -> list[tuple[str, int]]:
    """How often each channel was used with a customer (for the channel mix)."""
    require_customer(actor=actor, customer_id=customer_id)
    counter = Counter(dict(_interactions(actor).filter(customer_id=customer_id)
                           .values_list("channel").annotate(n=Count("id")).order_by()))
    return counter.most_common()


def open_task_count(*, actor: Actor) -> tuple[int, int]:
    """(open, overdue) tasks assigned to the actor."""
    qs = Task.objects.filter(assignee_id=actor.user.pk, done_at__isnull=True)
    return qs.count(), qs.filter(due_at__lt=timezone.now()).count()
