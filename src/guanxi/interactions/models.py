"""Interactions with customers on every channel, tasks and reminders, in-app notifications,
mail that could not be filed, and calendar feed tokens (DOMAIN.md sections 1 and 5).

Interactions follow their customer's grants (``access``): whoever may see a customer sees its
interactions, and logging one is a change to the customer. Tasks follow the same grants, read
through their assignee and the assignee's team: a rep sees their own and their team's tasks.
Notifications, feed tokens and unfiled mail belong to no customer; their queries restrict
them (to the user, or to those who may change every customer).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.access import AccessPath
from guanxi.core.models import Team
from guanxi.customers.models import Contact, Customer, GuardedModel


class Channel(models.TextChoices):
    """The interaction channels of DOMAIN.md section 5 (互动渠道), plus fax (section 1)."""

    FACE_TO_FACE = "face_to_face", _("face to face")
    PHONE = "phone", _("phone")
    LETTER = "letter", _("letter")
    EMAIL = "email", _("email")
    WEBSITE = "website", _("website")
    WECHAT = "wechat", _("WeChat")
    SOCIAL = "social", _("other social media")
    SMS = "sms", _("SMS")
    APP_PUSH = "app_push", _("app push")
    EVENT = "event", _("event")
    FAX = "fax", _("fax")


#: Icons (Tabler) per channel, for the timeline and the calendar.
CHANNEL_ICONS = {
    "face_to_face": "users", "phone": "phone", "letter": "mail-opened", "email": "mail",
    "website": "world", "wechat": "brand-wechat", "social": "share", "sms": "message",
    "app_push": "device-mobile-message", "event": "calendar-event", "fax": "printer",
}


class Initiator(models.TextChoices):
    """Who started the interaction (发起者)."""

    COMPANY = "company", _("company")
    CUSTOMER = "customer", _("customer")


class Direction(models.TextChoices):
    OUTBOUND = "out", _("outbound")
    INBOUND = "in", _("inbound")


class Purpose(models.TextChoices):
    """What the interaction carries (互动内容)."""

    INFORMATION = "information", _("information")
    EMOTION = "emotion", _("emotion")
    OPINION = "opinion", _("opinions and suggestions")


class Interaction(GuardedModel):
    """One contact with a customer: a visit, a call, a letter, an email, a WeChat message,
    an event attended. ``owner`` is the user who logged it; ``team`` that user's team then
    (for activity reports). Mail carries its Message-ID, unique, so a re-fetch never files
    the same message twice."""

    access = AccessPath(owner="customer__owner", team="customer__team",
                        grants_from="customers.customer")
    pii_fields = {"email_address": "email"}

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="interactions")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="interactions")
    channel = models.CharField(_("channel"), max_length=15, choices=Channel.choices)
    initiator = models.CharField(_("initiated by"), max_length=10, choices=Initiator.choices,
                                 default=Initiator.COMPANY)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices,
                                 default=Direction.OUTBOUND)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices,
                               blank=True, default="")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("notes"), blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=300, blank=True, default="")
    follow_up_at = models.DateTimeField(_("follow up on"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True,
                                                   blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logged by"),
                              on_delete=models.PROTECT, related_name="interactions")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="interactions")
    email_message_id = models.CharField(_("Message-ID"), max_length=255, null=True,
                                        blank=True, unique=True, editable=False)
    email_address = models.CharField(_("email address"), max_length=254, blank=True,
                                     default="", editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("logged"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="ix_customer_when"),
            models.Index(fields=["owner", "occurred_at"], name="ix_owner_when"),
            models.Index(fields=["team", "occurred_at"], name="ix_team_when"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def icon(self) -> str:
        return CHANNEL_ICONS.get(self.channel, "point")


class Task(GuardedModel):
    """Something to do by a date (待办): call back, send a quote, visit. Optionally about a
    customer, optionally the follow-up of an interaction. ``team`` is the assignee's team.
    A reminder goes out at ``remind_at`` (or at ``due_at`` when none is set), once."""

    access = AccessPath(owner="assignee", team="team", grants_from="customers.customer")

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True, default="")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="tasks")
    interaction = models.ForeignKey(Interaction, verbose_name=_("follow-up of"), null=True,
                                    blank=True, on_delete=models.SET_NULL,
                                    related_name="follow_ups")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"),
                                 on_delete=models.PROTECT, related_name="tasks")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="tasks")
    due_at = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"], name="task_assignee_due"),
            models.Index(fields=["team", "done_at", "due_at"], name="task_team_due"),
            models.Index(fields=["customer", "due_at"], name="task_customer_due"),
            models.Index(fields=["done_at", "reminded_at", "remind_at"], name="task_remind"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()


class Notification(models.Model):
    """A message in one user's notification list: a task reminder, a quote awaiting approval,
    a reply from a customer. Personal: every query filters on the user."""

    access_exempt = True  # personal: queries read only the acting user's own rows

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(max_length=40, blank=True, default="")
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at", "-created_at"],
                                name="notif_user_unread")]

    def __str__(self) -> str:
        return self.text


class UnfiledMail(models.Model):
    """A fetched message whose sender matches no customer and which answers no mail we sent.
    Someone who may change every customer files it on a customer (or discards it)."""

    access_exempt = True  # no customer yet: the queries allow only "change all" actors

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    from_address = models.CharField(_("from"), max_length=254)
    from_name = models.CharField(_("sender"), max_length=200, blank=True, default="")
    to_address = models.CharField(_("to"), max_length=500, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body = models.TextField(_("text"), blank=True, default="")
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    fetched_at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.CharField(_("reason"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("unfiled mail")
        verbose_name_plural = _("unfiled mail")

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class CalendarFeed(models.Model):
    """A secret calendar feed address for one user. Only a hash of the key is stored; a new
    key revokes the old one."""

    access_exempt = True  # personal: queries read only the acting user's own rows

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="calendar_feeds")
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "cal_" + secrets.token_urlsafe(32)
