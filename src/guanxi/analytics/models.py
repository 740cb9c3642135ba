"""Dated score snapshots per customer, the model runs that made them, and the cost-to-serve
ledger (DOMAIN.md sections 4, 7, 12). The numbers come from ``analytics.engine``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.access import AccessPath
from guanxi.customers.models import Customer

MONEY = {"max_digits": 18, "decimal_places": 2}


class ModelRun(models.Model):
    """One refresh: its as-of date, settings, fitted parameters (JSON, never pickled), engine
    version and the figures a user needs to see how scores were computed."""

    access_exempt = True  # figures for the whole base; customer rows are in ScoreSnapshot

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    as_of = models.DateField(_("as of"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    engine_version = models.CharField(max_length=20)
    params = models.JSONField(default=dict)
    fits = models.JSONField(default=dict)
    summary = models.JSONField(default=dict)
    n_customers = models.PositiveIntegerField(default=0)
    job = models.ForeignKey(
        "core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = _("analytics run")
        verbose_name_plural = _("analytics runs")

    def __str__(self) -> str:
        return f"{self.as_of} ({self.status})"


class ScoreSnapshot(models.Model):
    """A customer's scores as of a date: RFM, ABC, value tier, lifecycle stage, CLV, churn."""

    access = AccessPath(
        owner="customer__owner", team="customer__team", grants_from="customers.customer"
    )

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="snapshots")
    # No index of its own: the unique (customer, as_of) constraint serves lookups by customer.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="scores",
                                 db_index=False)
    as_of = models.DateField(_("as of"))
    recency_days = models.IntegerField(_("days since last purchase"), null=True)
    frequency = models.IntegerField(_("purchases"), default=0)
    monetary = models.DecimalField(_("spend"), default=0, **MONEY)
    r_score = models.PositiveSmallIntegerField(null=True)
    f_score = models.PositiveSmallIntegerField(null=True)
    m_score = models.PositiveSmallIntegerField(null=True)
    rfm_class = models.CharField(_("RFM class"), max_length=30, blank=True, default="")
    abc_class = models.CharField(_("ABC class"), max_length=1, blank=True, default="")
    value_tier = models.CharField(_("value tier"), max_length=10, blank=True, default="")
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=12, blank=True, default="")
    declining = models.BooleanField(_("declining"), default=False)
    p_alive = models.FloatField(_("probability still active"), null=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True)
    expected_spend = models.DecimalField(_("expected spend per purchase"), null=True, **MONEY)
    clv = models.DecimalField(_("customer lifetime value"), null=True, **MONEY)
    clv_intent = models.DecimalField(
        _("CLV with stated intent and open pipeline"), null=True, **MONEY,
        help_text=_("The model CLV with the customer's stated change in buying, plus open "
                    "opportunities weighted by their win probability."))
    churn_probability = models.FloatField(_("churn probability"), null=True)
    expected_loss = models.DecimalField(_("expected loss"), null=True, **MONEY)
    reasons = models.JSONField(default=list, blank=True)
    vk = models.DecimalField(_("discounted relationship value (VK)"), null=True, **MONEY)
    cost_to_serve = models.DecimalField(_("cost to serve"), default=0, **MONEY)
    profit = models.DecimalField(_("profit after cost to serve"), default=0, **MONEY)
    clv_class = models.CharField(_("CLV class"), max_length=12, blank=True, default="")
    matrix = models.CharField(_("value × cost quadrant"), max_length=3, blank=True,
                              default="")
    portfolio = models.CharField(_("relationship portfolio"), max_length=12, blank=True,
                                 default="")
    tags = models.JSONField(_("profile tags"), default=list, blank=True)
    cluster = models.SmallIntegerField(_("customer group"), null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "as_of"], name="snapshot_customer_day")
        ]
        indexes = [
            models.Index(fields=["as_of", "rfm_class"], name="snap_day_class"),
            models.Index(fields=["as_of", "value_tier"], name="snap_day_tier"),
            models.Index(fields=["as_of", "-expected_loss"], name="snap_day_loss"),
        ]
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of}"


class CostKind(models.TextChoices):
    ACQUISITION = "acquisition", _("acquisition cost")
    MAINTENANCE = "maintenance", _("relationship maintenance cost")
    RETENTION = "retention", _("retention and win-back cost")


class CostEntry(models.Model):
    """Cost to serve (客户关系管理成本): what a customer cost in a year, by kind. Supplies C_t in
    the discounted CLV and the cost axis of the value × cost matrix."""

    access = AccessPath(
        owner="customer__owner", team="customer__team", grants_from="customers.customer"
    )

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="costs")
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=12, choices=CostKind.choices)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["customer", "year", "kind"]
        indexes = [models.Index(fields=["customer", "year"], name="cost_customer_year")]
        verbose_name = _("cost entry")
        verbose_name_plural = _("cost entries")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.year} {self.kind}: {self.amount}"
