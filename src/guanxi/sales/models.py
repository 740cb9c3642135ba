"""Sales: leads, pipelines and opportunities, products and price lists, quotes, orders,
returns and refunds, targets, exchange and tax rates (DOMAIN.md sections 1, 3, 5, 12).

Money is Decimal with a currency (CNY by default); amounts in other currencies convert to CNY
with the exchange rate valid on the document's date.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.access import AccessPath
from guanxi.core.models import Team
from guanxi.customers.models import Customer, GuardedModel

MONEY = {"max_digits": 18, "decimal_places": 2}
QTY = {"max_digits": 14, "decimal_places": 3}


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("euro")
    HKD = "HKD", _("Hong Kong dollar")
    JPY = "JPY", _("Japanese yen")


class ExchangeRate(models.Model):
    """How many CNY one unit of ``currency`` is worth from ``valid_from`` on."""

    access_exempt = True  # reference data, readable by everyone, changed by administrators
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("CNY per unit"), max_digits=18, decimal_places=8)

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["currency", "valid_from"],
                                               name="fx_unique_day")]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from}: {self.rate}"


class TaxRate(models.Model):
    """A VAT rate (China: 13%, 9%, 6%, 0%), as data so that a change needs no release."""

    access_exempt = True
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4,
                               help_text=_("0.13 for 13%"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-rate", "code"]
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")

    def __str__(self) -> str:
        return f"{self.name} ({self.rate * 100:.0f}%)"


class ProductCategory(models.Model):
    access_exempt = True
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Something sold. ``product_line`` groups products for per-line lifecycle stages."""

    access_exempt = True
    sku = models.CharField(_("SKU"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(ProductCategory, null=True, blank=True,
                                 on_delete=models.PROTECT, verbose_name=_("category"),
                                 related_name="products")
    product_line = models.CharField(_("product line"), max_length=60, blank=True, default="")
    unit = models.CharField(_("unit"), max_length=20, default="件")
    list_price = models.DecimalField(_("list price"), **MONEY)
    cost = models.DecimalField(_("unit cost"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default="CNY")
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, verbose_name=_("tax rate"),
                                 related_name="products")
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class PriceList(models.Model):
    """Prices for a customer group (relation kind) or a sales channel."""

    access_exempt = True
    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default="CNY")
    relation_kind = models.CharField(_("customer group"), max_length=12, blank=True, default="")
    channel = models.CharField(_("channel"), max_length=30, blank=True, default="")
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    access_exempt = True
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    price = models.DecimalField(_("price"), **MONEY)

    class Meta:
        ordering = ["price_list", "product"]
        constraints = [models.UniqueConstraint(fields=["price_list", "product"],
                                               name="pricelist_product_unique")]

    def __str__(self) -> str:
        return f"{self.price_list}: {self.product} {self.price}"


# Leads ------------------------------------------------------------------------------------

class LeadStatus(models.TextChoices):
    NEW = "new", _("new")
    QUALIFIED = "qualified", _("qualified")
    CONVERTED = "converted", _("converted")
    LOST = "lost", _("lost")


class Lead(GuardedModel):
    """A possible customer who has shown interest (询问), not yet qualified."""

    access = AccessPath(owner="owner", team="team", grants_from="sales.lead")
    pii_fields = {"phone": "phone", "email": "email"}

    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True, default="")
    title = models.CharField(_("job title"), max_length=100, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    phone_digits = models.CharField(max_length=20, blank=True, default="", editable=False)
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    province = models.CharField(_("province"), max_length=30, blank=True, default="")
    message = models.TextField(_("message"), blank=True, default="")
    source = models.CharField(_("source"), max_length=30, default="manual")
    campaign = models.CharField(_("campaign"), max_length=100, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=LeadStatus.choices,
                              default=LeadStatus.NEW)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True, default="")
    marketing_consent = models.BooleanField(_("agreed to marketing"), default=False)
    consent_evidence = models.CharField(_("consent evidence"), max_length=300, blank=True,
                                        default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="leads",
                              verbose_name=_("owner"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="leads", verbose_name=_("team"))
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="leads", verbose_name=_("customer"))
    opportunity = models.ForeignKey("Opportunity", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("opportunity"))
    duplicate_of = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("possible duplicate of"))
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [models.Index(fields=["team", "status", "id"], name="lead_team_status"),
                   models.Index(fields=["phone_digits"], name="lead_phone"),
                   models.Index(fields=["email"], name="lead_email")]

    def __str__(self) -> str:
        return self.name


class AssignmentRule(models.Model):
    """Who gets a new lead: round robin within a team, optionally only for a region
    (province) or a source. Rules are tried in ``position`` order; the first match wins."""

    access_exempt = True
    position = models.PositiveIntegerField(_("position"), default=0)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="assignment_rules",
                             verbose_name=_("team"))
    province = models.CharField(_("province"), max_length=30, blank=True, default="")
    source = models.CharField(_("source"), max_length=30, blank=True, default="")
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return f"{self.team}: {self.province or '*'} / {self.source or '*'}"


# Pipelines and opportunities ----------------------------------------------------------------

class Pipeline(models.Model):
    access_exempt = True
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


# Shipped stage codes carry translated names; stages an administrator adds show their name.
STAGE_LABELS = {
    "qualification": _("Qualification"),
    "needs": _("Needs analysis"),
    "proposal": _("Proposal"),
    "negotiation": _("Negotiation"),
    "won": _("Won"),
    "lost": _("Lost"),
}


class Stage(models.Model):
    access_exempt = True
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    code = models.SlugField(_("code"), max_length=40, blank=True, default="")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"))
    probability = models.DecimalField(_("win probability"), max_digits=5, decimal_places=4,
                                      help_text=_("0.25 for 25%"))
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)

    class Meta:
        ordering = ["pipeline", "position"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "position"],
                                               name="stage_position_unique")]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return str(STAGE_LABELS.get(self.code, self.name))


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("open")
    WON = "won", _("won")
    LOST = "lost", _("lost")


class Opportunity(GuardedModel):
    """A chance to sell (商机) to a customer, moving through a pipeline's stages."""

    access = AccessPath(owner="owner", team="team", grants_from="sales.opportunity")

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="opportunities", verbose_name=_("customer"))
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT,
                                 related_name="opportunities", verbose_name=_("pipeline"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities",
                              verbose_name=_("stage"))
    status = models.CharField(_("status"), max_length=5, choices=OpportunityStatus.choices,
                              default=OpportunityStatus.OPEN)
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default="CNY")
    amount_cny = models.DecimalField(_("amount (CNY)"), **MONEY, default=Decimal("0"),
                                     editable=False)
    probability = models.DecimalField(_("win probability"), max_digits=5, decimal_places=4,
                                      null=True, blank=True,
                                      help_text=_("empty: the stage's probability"))
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    competitors = models.CharField(_("competitors"), max_length=300, blank=True, default="")
    next_step = models.CharField(_("next step"), max_length=300, blank=True, default="")
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True, default="")
    won_reason = models.CharField(_("reason won"), max_length=200, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="opportunities", verbose_name=_("owner"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="opportunities", verbose_name=_("team"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    stage_entered_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["team", "status", "stage", "id"], name="opp_team_board"),
            models.Index(fields=["status", "stage", "id"], name="opp_board"),
            models.Index(fields=["owner", "status"], name="opp_owner_status"),
            models.Index(fields=["customer", "status"], name="opp_customer"),
            models.Index(fields=["expected_close"], name="opp_close"),
            # The board: a column's first cards in order, and the recently closed ones (the
            # won and lost columns) without reading the whole history.
            models.Index(fields=["stage", "expected_close", "id"], name="opp_stage_close"),
            models.Index(fields=["closed_at"], name="opp_closed"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_probability(self) -> Decimal:
        return self.probability if self.probability is not None else self.stage.probability


class StageHistory(models.Model):
    """Each stage an opportunity passed through and how long it stayed."""

    access = AccessPath(owner="opportunity__owner", team="opportunity__team",
                        grants_from="sales.opportunity")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE,
                                    related_name="stage_history")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opportunity", "entered_at", "id"]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.stage} {self.entered_at:%Y-%m-%d}"


class OpportunityLine(models.Model):
    access = AccessPath(owner="opportunity__owner", team="opportunity__team",
                        grants_from="sales.opportunity")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE,
                                    related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QTY, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        ordering = ["opportunity", "id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class SalesTarget(models.Model):
    """A manager's target for a month, per owner or per team (CNY)."""

    access_exempt = True
    month = models.DateField(_("month"), help_text=_("first day of the month"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="targets", verbose_name=_("team"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="targets",
                              verbose_name=_("owner"))
    amount = models.DecimalField(_("target (CNY)"), **MONEY)

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["month", "team", "owner"],
                                               name="target_unique")]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.owner or self.team}: {self.amount}"


# Quotes -----------------------------------------------------------------------------------

class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    SENT = "sent", _("sent")
    ACCEPTED = "accepted", _("accepted")
    ORDERED = "ordered", _("ordered")


class Quote(GuardedModel):
    """A priced offer (报价单). A discount above the threshold needs a manager's approval."""

    access = AccessPath(owner="owner", team="team", grants_from="sales.quote")

    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="quotes",
                                 verbose_name=_("customer"))
    opportunity = models.ForeignKey(Opportunity, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="quotes",
                                    verbose_name=_("opportunity"))
    price_list = models.ForeignKey(PriceList, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("price list"))
    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices,
                              default=QuoteStatus.DRAFT)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default="CNY")
    issued_on = models.DateField(_("issued"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0"),
                                   editable=False)
    discount_total = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"),
                                         editable=False)
    tax_total = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"), editable=False)
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"), editable=False)
    max_discount = models.DecimalField(_("largest line discount"), max_digits=5,
                                       decimal_places=4, default=Decimal("0"), editable=False)
    notes = models.TextField(_("notes"), blank=True, default="")
    rejection_reason = models.CharField(_("reason rejected"), max_length=500, blank=True,
                                        default="", editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("approved by"))
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="quotes", verbose_name=_("owner"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="quotes", verbose_name=_("team"))
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [models.Index(fields=["team", "status", "id"], name="quote_team_status")]

    def __str__(self) -> str:
        return self.number


class QuoteLine(models.Model):
    access = AccessPath(owner="quote__owner", team="quote__team", grants_from="sales.quote")
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(_("discount"), max_digits=5, decimal_places=4,
                                   default=Decimal("0"), help_text=_("0.1 for 10%"))
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4,
                                   default=Decimal("0"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["quote", "position", "id"]

    def __str__(self) -> str:
        return self.description


# Orders -----------------------------------------------------------------------------------

class OrderStatus(models.TextChoices):
    OPEN = "open", _("open")
    CONFIRMED = "confirmed", _("confirmed")
    SHIPPED = "shipped", _("shipped")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("unpaid")
    PARTIAL = "partial", _("partly paid")
    PAID = "paid", _("paid")
    REFUNDED = "refunded", _("refunded")


class Order(GuardedModel):
    """A sale (订单): what RFM, CLV and churn are computed from.

    Orders from an ERP or a shop carry ``source`` and ``external_id``; the pair is unique, so
    sending the same order twice never counts it twice.
    """

    access = AccessPath(owner="owner", team="team", grants_from="sales.order")

    number = models.CharField(_("number"), max_length=40, unique=True)
    source = models.CharField(_("source"), max_length=30, default="crm")
    external_id = models.CharField(_("external id"), max_length=80, null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders",
                                 verbose_name=_("customer"))
    quote = models.ForeignKey(Quote, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="orders", verbose_name=_("quote"))
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.CONFIRMED)
    payment_status = models.CharField(_("payment"), max_length=10,
                                      choices=PaymentStatus.choices,
                                      default=PaymentStatus.UNPAID)
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                default="CNY")
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    tax_total = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total_cny = models.DecimalField(_("total (CNY)"), **MONEY, default=Decimal("0"))
    cost_cny = models.DecimalField(_("cost (CNY)"), null=True, blank=True, **MONEY)
    channel = models.CharField(_("channel"), max_length=30, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="orders", verbose_name=_("owner"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="orders", verbose_name=_("team"))
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.UniqueConstraint(fields=["source", "external_id"],
                                               name="order_external_unique")]
        indexes = [
            models.Index(fields=["customer", "ordered_at"], name="order_customer_date"),
            models.Index(fields=["team", "ordered_at", "id"], name="order_team_date"),
            models.Index(fields=["ordered_at", "id"], name="order_date"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    access = AccessPath(owner="order__owner", team="order__team", grants_from="sales.order")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    sku = models.CharField(_("SKU"), max_length=60, blank=True, default="")
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=6, decimal_places=4,
                                   default=Decimal("0"))
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **MONEY)
    line_no = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [models.UniqueConstraint(fields=["order", "line_no"],
                                               name="orderline_unique")]

    def __str__(self) -> str:
        return f"{self.sku or self.description} × {self.quantity}"


class ReturnKind(models.TextChoices):
    RETURN = "return", _("return")
    REFUND = "refund", _("refund")


class OrderReturn(models.Model):
    """A return of goods or a refund of money against an order (its own record: the order
    keeps what was sold; analytics nets returns out)."""

    access = AccessPath(owner="order__owner", team="order__team", grants_from="sales.order")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    kind = models.CharField(_("kind"), max_length=10, choices=ReturnKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    amount_cny = models.DecimalField(_("amount (CNY)"), **MONEY)
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="")
    at = models.DateTimeField(_("when"), default=timezone.now)
    external_id = models.CharField(max_length=80, null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("return or refund")
        verbose_name_plural = _("returns and refunds")
        constraints = [models.UniqueConstraint(fields=["order", "external_id"],
                                               name="return_external_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} on {self.order_id}"


class ImportBatch(models.Model):
    """One committed batch of an order import (file hash + batch number): a restarted import
    skips the batches already done."""

    access_exempt = True
    job = models.ForeignKey("core.JobRun", on_delete=models.CASCADE, related_name="+")
    batch_no = models.PositiveIntegerField()
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["job", "batch_no"]
        constraints = [models.UniqueConstraint(fields=["job", "batch_no"],
                                               name="importbatch_unique")]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.batch_no}"
