"""Users, teams, roles and grants, the audit trail, custom fields, tags, tokens and job runs."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A sales or service team; scope ``team`` means "objects of the actor's team"."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Scope(models.TextChoices):
    NONE = "none", _("none")
    OWN = "own", _("own")
    TEAM = "team", _("team")
    ALL = "all", _("all")


class Action(models.TextChoices):
    VIEW = "view", _("view")
    ADD = "add", _("create")
    CHANGE = "change", _("change")
    DELETE = "delete", _("delete")
    EXPORT = "export", _("export")
    APPROVE = "approve", _("approve")


class Role(models.Model):
    """A named set of grants. ``can_see_pii`` unmasks personal data (phones, emails, IDs)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    can_see_pii = models.BooleanField(_("may see personal data"), default=False)
    is_admin = models.BooleanField(
        _("administers users and settings"), default=False,
        help_text=_("Manages users, roles, custom fields and reads the whole audit trail."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """Role ``role`` may do ``action`` on ``model`` within ``scope``.

    ``readonly_fields`` lists fields the role may not change even where it may change the object.
    """

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    model = models.CharField(_("model"), max_length=60, help_text=_("app_label.model"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    readonly_fields = models.JSONField(_("read-only fields"), default=list, blank=True)

    class Meta:
        ordering = ["role", "model", "action"]
        constraints = [
            models.UniqueConstraint(fields=["role", "model", "action"], name="grant_unique")
        ]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self) -> str:
        return f"{self.role.code}: {self.action} {self.model} ({self.scope})"


class User(AbstractUser):
    """A person who signs in. Belongs to at most one team and has one role."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="members",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=60, blank=True, default="")

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        full = self.get_full_name()
        return full or self.username


class AuditRecord(models.Model):
    """One change to business data. Append-only: the model refuses updates and deletes."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("who"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("who"), max_length=150)
    channel = models.CharField(_("channel"), max_length=20)
    request_id = models.CharField(_("request"), max_length=40, blank=True, default="")
    action = models.CharField(_("action"), max_length=20)
    model = models.CharField(_("model"), max_length=60)
    object_id = models.CharField(_("object"), max_length=40)
    object_repr = models.CharField(_("object"), max_length=200, blank=True, default="")
    # The customer whose timeline shows this change (for child objects too).
    customer_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["model", "object_id", "-at"], name="audit_object"),
            models.Index(fields=["customer_id", "-at"], name="audit_customer"),
        ]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")

    def __str__(self) -> str:
        return f"{self.action} {self.model}#{self.object_id} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit records are append-only.")


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a hash is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "gx_" + secrets.token_urlsafe(32)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="blue")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class FieldType(models.TextChoices):
    TEXT = "text", _("text")
    NUMBER = "number", _("number")
    DATE = "date", _("date")
    CHOICE = "choice", _("choice")
    MULTI = "multi", _("multiple choice")


class CustomField(models.Model):
    """An administrator-defined field on a model (customers for now)."""

    model = models.CharField(_("applies to"), max_length=60, default="customers.customer")
    code = models.SlugField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True, default="")
    type = models.CharField(_("type"), max_length=10, choices=FieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    filterable = models.BooleanField(_("filterable"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["model", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["model", "code"], name="customfield_unique_code")
        ]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    def display_label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or "en"
        return self.label_zh if lang.startswith("zh") and self.label_zh else self.label


class SavedView(models.Model):
    """A named set of list filters a user keeps (optionally shared with everyone)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    list_name = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000, blank=True, default="")
    shared = models.BooleanField(_("shared"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["list_name", "name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    """Progress of a long job: a cursor so that a restart resumes where it stopped."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    params = models.JSONField(default=dict, blank=True)
    cursor = models.CharField(max_length=200, blank=True, default="")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"


class LoginFailure(models.Model):
    """Failed sign-ins, for throttling by username and address."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=45, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username}@{self.address}"
