"""Interaction pages: log an interaction from a customer's page, the customer's interactions
(an htmx fragment the customer page loads), email compose, tasks (mine, my team's,
overdue), a month calendar, the calendar feed, notifications and unfiled mail. Thin: forms
check shape, services meaning, queries read under the policy."""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import Conflict, ValidationError
from guanxi.core.web import errors_into_form, page, web_actor
from guanxi.customers import queries as customer_queries
from guanxi.interactions import ical, mail, queries, services, tasks
from guanxi.interactions.forms import EmailForm, FileMailForm, InteractionForm, TaskForm
from guanxi.interactions.models import Channel, Task


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _changeable_customer(actor: Actor, customer_id: int | None):
    """The customer (masked) if the actor may change it: 404 out of sight, 403 read-only."""
    if customer_id is None:
        raise Http404
    customer = customer_queries.customer_get(actor=actor, customer_id=customer_id)
    policy.require(actor, "change", customer)
    return customer


def _next_or(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# Interactions ---------------------------------------------------------------------------

@page
def interaction_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    mine = request.GET.get("who") == "mine"
    p = queries.interaction_list(actor=actor, channel=channel, cursor=request.GET.get("cursor"),
                                 owner_id=actor.user.pk if mine else None)
    params = {k: v for k, v in {"channel": channel, "who": "mine" if mine else ""}.items() if v}
    next_url = "?" + urlencode({**params, "cursor": p.next_cursor}) if p.next_cursor else None
    return render(request, "interactions/list.html", {
        "page": p, "channels": Channel.choices, "channel": channel, "mine": mine,
        "next_url": next_url})


@page
def interaction_create(request: HttpRequest) -> HttpResponse:
    """Log an interaction: ``/interactions/new/?customer=ID`` (a whole page, or the form
    alone for htmx)."""
    actor = web_actor(request)
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer"))
    customer = _changeable_customer(actor, customer_id)
    contacts = queries.contact_choices(actor=actor, customer_id=customer.pk)
    initial = {"channel": request.GET.get("channel", Channel.PHONE)}
    form = InteractionForm(request.POST or None, contacts=contacts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_create(actor=actor, customer_id=customer.pk,
                                        data=form.changes())
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Interaction logged."))
            return redirect(_next_or(request, reverse("customer_detail", args=[customer.pk])))
    template = "interactions/form.html#interaction-form" if _htmx(request) else \
        "interactions/form.html"
    return render(request, template, {"form": form, "customer": customer,
                                      "next": request.GET.get("next", "")})


@page
def interaction_detail(request: HttpRequest, interaction_id: int) -> HttpResponse:
    """One interaction; those who may change it edit it here (with a version check)."""
    actor = web_actor(request)
    i = queries.interaction_get(actor=actor, interaction_id=interaction_id)
    can_change = policy.allows(actor, "change", i)
    form, conflict = None, None
    if can_change:
        contacts = queries.contact_choices(actor=actor, customer_id=i.customer_id)
        initial = {f: getattr(i, f) for f in services.INTERACTION_FIELDS if f != "contact"}
        initial.update(contact=i.contact_id, version=i.version)
        form = InteractionForm(request.POST or None, contacts=contacts, initial=initial)
        if i.email_message_id:
            for name in ("channel", "direction"):
                form.fields[name].disabled = True
    if request.method == "POST":
        policy.require(actor, "change", i)
        if form is not None and form.is_valid():
            try:
                services.interaction_update(actor=actor, interaction_id=i.pk,
                                            version=form.cleaned_data.get("version") or 0,
                                            changes=form.changes())
            except Conflict as exc:
                conflict = exc.current_version
                data = request.POST.copy()
                data["version"] = str(exc.current_version)
                form = InteractionForm(data, contacts=contacts, initial=initial)
                form.is_valid()
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("interaction_detail", interaction_id=i.pk)
    return render(request, "interactions/detail.html", {
        "i": i, "form": form, "can_change": can_change, "conflict": conflict,
        "follow_ups": queries.follow_ups(actor=actor, interaction_id=i.pk)})


@page
def customer_interactions(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's interactions and open tasks, with buttons to log, write and plan: an
    htmx fragment for the customer page (or a page of its own)."""
    actor = web_actor(request)
    customer = customer_queries.customer_brief(actor=actor, customer_id=customer_id)
    p = queries.interaction_list(actor=actor, customer_id=customer_id,
                                 cursor=request.GET.get("cursor"), limit=20)
    ctx = {"customer": customer, "page": p,
           "tasks": queries.customer_tasks(actor=actor, customer_id=customer_id),
           "can_change": policy.allows(actor, "change", customer),
           "can_task": policy.can(actor, Task, "change"),
           "channel_mix": [(Channel(c).label, n) for c, n in queries.counts_by_channel(
               actor=actor, customer_id=customer_id)],
           "next_url": (f"?cursor={p.next_cursor}" if p.next_cursor else None)}
    template = "interactions/customer.html#customer-panel" if _htmx(request) else \
        "interactions/customer.html"
    return render(request, template, ctx)


@page
def email_compose(request: HttpRequest) -> HttpResponse:
    """Write to a customer: ``/interactions/email/new/?customer=ID``. Shows the customer's
    email consent; one-to-one service mail is not blocked by it."""
    actor = web_actor(request)
    customer = _changeable_customer(actor, _int(request.GET.get("customer")
                                                or request.POST.get("customer")))
    recipients = queries.email_recipients(actor=actor, customer_id=customer.pk)
    form = EmailForm(request.POST or None, recipients=recipients)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            services.email_send(actor=actor, customer_id=customer.pk, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except mail.MailError as exc:
            error = _("The mail server did not accept the message: %(error)s") % {
                "error": exc}
        else:
            messages.success(request, _("Email sent."))
            return redirect("customer_detail", customer_id=customer.pk)
    return render(request, "interactions/email.html", {
        "form": form, "customer": customer, "recipients": recipients, "error": error,
        "consent": queries.email_consent(actor=actor, customer_id=customer.pk)})


# Tasks ----------------------------------------------------------------------------------

@page
def task_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    view = request.GET.get("view", "mine")
    if view not in queries.TASK_VIEWS:
        view = "mine"
    p = queries.task_list(actor=actor, view=view, cursor=request.GET.get("cursor"))
    next_url = "?" + urlencode({"view": view, "cursor": p.next_cursor}) if p.next_cursor \
        else None
    counts = queries.open_task_count(actor=actor)
    return render(request, "interactions/tasks.html", {
        "page": p, "view": view, "views": _task_views(), "next_url": next_url,
        "open_count": counts[0], "overdue_count": counts[1],
        "can_add": policy.can(actor, Task, "change")})


def _task_views() -> list[tuple[str, str]]:
    return [("mine", _("Mine")), ("team", _("My team's")), ("overdue", _("Overdue")),
            ("done", _("Done"))]


@page
def task_create(request: HttpRequest) -> HttpResponse:
    """A new task, for a customer when ``?customer=ID`` is given."""
    actor = web_actor(request)
    policy.require_model(actor, Task, "change")
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer"))
    customer = (customer_queries.customer_get(actor=actor, customer_id=customer_id)
                if customer_id else None)
    assignees = queries.assignee_choices(actor=actor)
    due = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                                microsecond=0)
    form = TaskForm(request.POST or None, assignees=assignees,
                    initial={"assignee": actor.user.pk, "due_at": due})
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        if customer is not None:
            data["customer"] = customer.pk
        try:
            services.task_create(actor=actor, data=data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Task created."))
            fallback = (reverse("customer_detail", args=[customer.pk]) if customer
                        else reverse("task_list"))
            return redirect(_next_or(request, fallback))
    return render(request, "interactions/task_form.html", {
        "form": form, "customer": customer, "creating": True})


@page
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = web_actor(request)
    t = queries.task_get(actor=actor, task_id=task_id)
    can_change = policy.allows(actor, "change", t)
    assignees = queries.assignee_choices(actor=actor)
    if t.assignee_id not in {u.pk for u in assignees}:
        assignees = [t.assignee, *assignees]
    initial = {"title": t.title, "assignee": t.assignee_id, "due_at": t.due_at,
               "remind_at": t.remind_at, "notes": t.notes, "version": t.version}
    form = TaskForm(request.POST or None, assignees=assignees, initial=initial)
    conflict = None
    if request.method == "POST":
        policy.require(actor, "change", t)
        if form.is_valid():
            try:
                services.task_update(actor=actor, task_id=t.pk,
                                     version=form.cleaned_data.get("version") or 0,
                                     changes=form.changes())
            except Conflict as exc:
                conflict = exc.current_version
                data = request.POST.copy()
                data["version"] = str(exc.current_version)
                form = TaskForm(data, assignees=assignees, initial=initial)
                form.is_valid()
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("task_list")
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "interactions/task_form.html", {
        "form": form, "task": t, "customer": t.customer, "can_change": can_change,
        "conflict": conflict})


def _task_done(request: HttpRequest, task_id: int, done: bool) -> HttpResponse:
    actor = web_actor(request)
    version = _int(request.POST.get("version"))
    try:
        if done:
            services.task_complete(actor=actor, task_id=task_id, version=version)
            messages.success(request, _("Task done."))
        else:
            services.task_reopen(actor=actor, task_id=task_id, version=version)
            messages.success(request, _("Task reopened."))
    except Conflict:
        messages.error(request, _("This task was changed by someone else; look again."))
    return redirect(_next_or(request, reverse("task_list")))


@page
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_done(request, task_id, True)


@page
@require_POST
def task_reopen(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_done(request, task_id, False)


# Calendar -------------------------------------------------------------------------------

def _month(value: str | None) -> dt.date:
    today = timezone.localdate()
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


DAY_CELL = 8  # entries shown in a day's cell; the rest behind "+N more"


@page
def calendar(request: HttpRequest) -> HttpResponse:
    """A month of one's own (or one's team's) interactions and tasks, Monday first;
    ``?day=YYYY-MM-DD`` lists that day's entries in full above its month."""
    actor = web_actor(request)
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    first = day.replace(day=1) if day else _month(request.GET.get("month"))
    who = "team" if request.GET.get("who") == "team" else "mine"
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(weeks[0][0], dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(weeks[-1][-1] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    items = queries.calendar_items(actor=actor, start=start, end=end, who=who)
    by_day: dict[dt.date, list] = {}
    for item in items:
        by_day.setdefault(timezone.localtime(item.start).date(), []).append(item)
    grid = [[{"date": d, "items": by_day.get(d, [])[:DAY_CELL],
              "more": max(0, len(by_day.get(d, [])) - DAY_CELL), "in_month": d.month == first.month}
             for d in week] for week in weeks]
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    return render(request, "interactions/calendar.html", {
        "grid": grid, "first": first, "who": who, "today": timezone.localdate(),
        "day": day, "day_items": by_day.get(day, []) if day else [],
        "prev": prev_month.strftime("%Y-%m"), "next": next_month.strftime("%Y-%m"),
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        "has_team": bool(actor.user.team_id)})


@page
def calendar_feed(request: HttpRequest) -> HttpResponse:
    """The actor's secret calendar feed address: create (or replace) and revoke it."""
    actor = web_actor(request)
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(actor=actor)
            messages.success(request, _("Calendar feed revoked."))
            return redirect("calendar_feed")
        key = services.calendar_feed_create(actor=actor)
        new_url = request.build_absolute_uri(reverse("ical_feed", args=[key]))
    return render(request, "interactions/feed.html", {
        "feed": queries.feed_of(actor=actor), "new_url": new_url})


def ical_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The iCalendar feed at the secret address (no sign-in: the key is the credential).
    Two months back to a year ahead; ``?team=1`` adds the team's entries."""
    user = queries.feed_user(key=key)
    if user is None:
        raise Http404
    actor = Actor(user=user, channel="api", request_id=getattr(request, "request_id", "")
                  or "ical")
    now = timezone.now()
    items = queries.calendar_items(actor=actor, start=now - dt.timedelta(days=60),
                                   end=now + dt.timedelta(days=366),
                                   who="team" if request.GET.get("team") == "1" else "mine")
    base = request.build_absolute_uri("/").rstrip("/")
    body = ical.render(items, name=_("Guanxi: %(user)s") % {"user": user},
                       host=request.get_host(), base_url=base, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# Notifications --------------------------------------------------------------------------

@page
def notifications(request: HttpRequest) -> HttpResponse:
    """The notification list: the dropdown's content for htmx (unread first, ten), the full
    list otherwise."""
    actor = web_actor(request)
    if _htmx(request):
        p = queries.notification_list(actor=actor, limit=10)
        return render(request, "interactions/notifications.html#dropdown", {
            "items": p.items, "unread": queries.unread_count(actor=actor)})
    p = queries.notification_list(actor=actor, cursor=request.GET.get("cursor"))
    return render(request, "interactions/notifications.html", {
        "items": p.items, "unread": queries.unread_count(actor=actor),
        "next_url": f"?cursor={p.next_cursor}" if p.next_cursor else None})


@page
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark a notification read and go where it points."""
    n = services.notification_mark_read(actor=web_actor(request),
                                        notification_id=notification_id)
    return redirect(n.url or reverse("notifications"))


@page
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(actor=web_actor(request))
    return redirect(_next_or(request, reverse("notifications")))


# Unfiled mail ---------------------------------------------------------------------------

@page
def unfiled_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    p = queries.unfiled_list(actor=actor, cursor=request.GET.get("cursor"))
    return render(request, "interactions/unfiled.html", {
        "page": p, "runs": queries.mail_fetch_runs(actor=actor),
        "configured": mail.mailbox_config() is not None,
        "next_url": f"?cursor={p.next_cursor}" if p.next_cursor else None})


@page
@require_POST
def unfiled_file(request: HttpRequest, unfiled_id: int) -> HttpResponse:
    actor = web_actor(request)
    form = FileMailForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the customer's number."))
        return redirect("unfiled_mail")
    try:
        i = services.unfiled_file(actor=actor, unfiled_id=unfiled_id,
                                  customer_id=form.cleaned_data["customer"],
                                  remember_address=form.cleaned_data["remember_address"])
    except ValidationError as exc:
        messages.error(request, " ".join(" ".join(v) for v in exc.message_dict.values()))
        return redirect("unfiled_mail")
    messages.success(request, _("Mail filed on %(customer)s.") % {"customer": i.customer.name})
    return redirect("unfiled_mail")


@page
@require_POST
def unfiled_discard(request: HttpRequest, unfiled_id: int) -> HttpResponse:
    services.unfiled_discard(actor=web_actor(request), unfiled_id=unfiled_id)
    messages.success(request, _("Mail discarded."))
    return redirect("unfiled_mail")


@page
@require_POST
def mail_fetch(request: HttpRequest) -> HttpResponse:
    """Fetch the mailbox now (queued for the worker; at once where tasks run inline)."""
    actor = web_actor(request)
    queries.unfiled_list(actor=actor, limit=1)  # the same gate as the page
    if mail.mailbox_config() is None:
        messages.error(request, _("No mailbox is configured."))
        return redirect("unfiled_mail")
    try:
        tasks.fetch_mail.enqueue()
    except mail.MailError as exc:
        messages.error(request, _("The mail server answered: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Fetching mail."))
    return redirect("unfiled_mail")
