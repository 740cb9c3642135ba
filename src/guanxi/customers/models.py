"""Customers (persons and organisations), contacts, contact points, addresses and consents.

DOMAIN.md section 2. Each model states how it reaches an owner (``access``) and which fields are
personal data (``pii_fields``); the access policy reads both.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.access import AccessPath
from guanxi.core.models import CustomField, Tag, Team


class GuardedModel(models.Model):
    """Refuses to save an instance the access policy has masked."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if getattr(self, "_masked", False):
            raise ValueError("A masked object is read-only.")
        super().save(*args, **kwargs)


class Kind(models.TextChoices):
    PERSON = "person", _("person")
    ORGANISATION = "organisation", _("organisation")


class RelationKind(models.TextChoices):
    CONSUMER = "consumer", _("consumer customer")
    INTERMEDIARY = "intermediary", _("intermediary customer")
    INTERNAL = "internal", _("internal customer")
    PUBLIC = "public", _("public customer")


class ConsumerType(models.TextChoices):
    INDIVIDUAL = "individual", _("individual")
    INDUSTRIAL = "industrial", _("industrial")


class RelationshipType(models.TextChoices):
    BUYER_SELLER = "buyer_seller", _("buyer-seller")
    PREFERRED = "preferred_supply", _("preferred supply")
    PARTNERSHIP = "partnership", _("partnership")
    ALLIANCE = "strategic_alliance", _("strategic alliance")


class SourceType(models.TextChoices):
    DIRECT = "direct", _("direct")
    INDIRECT = "indirect", _("indirect")


class SourceChannel(models.TextChoices):
    CONVERSATION = "conversation", _("conversation")
    EVENT = "event", _("event")
    AFTER_SALES = "after_sales", _("after-sales")
    WEBSITE = "website", _("website")
    APP = "app", _("app")
    WECHAT = "wechat", _("WeChat")
    REFERRAL = "referral", _("referral")
    PUBLICATION = "publication", _("publication")
    REPORT = "report", _("purchased report")
    PARTNER = "partner", _("partner")
    IMPORT = "import", _("import")
    OTHER = "other", _("other")


class Gender(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    OTHER = "other", _("other")


class Education(models.TextChoices):
    SECONDARY = "secondary", _("secondary school")
    COLLEGE = "college", _("college")
    BACHELOR = "bachelor", _("bachelor")
    MASTER = "master", _("master")
    DOCTORATE = "doctorate", _("doctorate")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("single")
    MARRIED = "married", _("married")
    DIVORCED = "divorced", _("divorced")
    WIDOWED = "widowed", _("widowed")


class IncomeBand(models.TextChoices):
    LOW = "low", _("under ¥5,000 a month")
    MIDDLE = "middle", _("¥5,000-15,000 a month")
    UPPER = "upper", _("¥15,000-40,000 a month")
    HIGH = "high", _("over ¥40,000 a month")


class PurchaseMotive(models.TextChoices):
    PRACTICAL = "practical", _("practical")
    NOVELTY = "novelty", _("novelty")
    CONVENIENCE = "convenience", _("convenience")
    STATUS = "status", _("status symbol")


class Personality(models.TextChoices):
    EXTROVERT = "extrovert", _("extrovert")
    INTROVERT = "introvert", _("introvert")
    CAUTIOUS = "cautious", _("cautious")
    IMPULSIVE = "impulsive", _("impulsive")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("under 10 staff")
    SMALL = "small", _("10-99 staff")
    MEDIUM = "medium", _("100-999 staff")
    LARGE = "large", _("1,000+ staff")


class PurchaseIntent(models.TextChoices):
    """What the customer says about their future buying (source 003 §6.2.2); the CLV with
    intent takes it in (guanxi.analytics.engine.intent)."""

    MORE = "more", _("plans to buy more")
    STEADY = "steady", _("will keep buying as now")
    LESS = "less", _("plans to buy less")
    LEAVING = "leaving", _("seeking other suppliers")


class LifecycleStage(models.TextChoices):
    SUSPECT = "suspect", _("suspect")
    PROSPECT = "prospect", _("prospect")
    FIRST_TIME = "first_time", _("first-time customer")
    REPEAT = "repeat", _("repeat customer")
    LOYAL = "loyal", _("loyal client")
    LOST = "lost", _("lost customer")


class Customer(GuardedModel):
    """A person or an organisation the company has (or wants) a relationship with."""

    access = AccessPath(owner="owner", team="team")
    pii_fields = {"primary_phone": "phone", "primary_email": "email", "id_number": "id",
                  "birth_date": "date"}

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    name_pinyin = models.CharField(max_length=200, editable=False, default="")
    name_initials = models.CharField(max_length=60, editable=False, default="")
    relation_kind = models.CharField(_("customer kind"), max_length=12,
                                     choices=RelationKind.choices, default=RelationKind.CONSUMER)
    consumer_type = models.CharField(_("consumer type"), max_length=12, blank=True, default="",
                                     choices=ConsumerType.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"),
                              on_delete=models.PROTECT, related_name="customers")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="customers")
    source_type = models.CharField(_("source"), max_length=10, choices=SourceType.choices,
                                   default=SourceType.DIRECT)
    source_channel = models.CharField(_("source channel"), max_length=20, blank=True, default="",
                                      choices=SourceChannel.choices)
    source_cost = models.DecimalField(_("cost of acquiring the data"), max_digits=12,
                                      decimal_places=2, null=True, blank=True)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=12, editable=False,
                                       choices=LifecycleStage.choices,
                                       default=LifecycleStage.SUSPECT)
    # Primary contact points, kept in step with ContactPoint by the services (for lists).
    primary_phone = models.CharField(_("phone"), max_length=20, blank=True, default="",
                                     editable=False)
    primary_email = models.CharField(_("email"), max_length=254, blank=True, default="",
                                     editable=False)
    province = models.CharField(_("province"), max_length=30, blank=True, default="",
                                editable=False)
    # Person: basic information.
    gender = models.CharField(_("gender"), max_length=10, blank=True, default="",
                              choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True, default="")
    occupation = models.CharField(_("occupation"), max_length=100, blank=True, default="")
    income_band = models.CharField(_("income"), max_length=10, blank=True, default="",
                                   choices=IncomeBand.choices)
    education = models.CharField(_("education"), max_length=12, blank=True, default="",
                                 choices=Education.choices)
    marital_status = models.CharField(_("marital status"), max_length=10, blank=True,
                                      default="", choices=MaritalStatus.choices)
    family_size = models.PositiveSmallIntegerField(_("family members"), null=True, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True, default="")
    job_title = models.CharField(_("job title"), max_length=100, blank=True, default="")
    interests = models.CharField(_("interest communities"), max_length=300, blank=True,
                                 default="")
    # Person: psychographic information.
    purchase_motive = models.CharField(_("purchase motive"), max_length=12, blank=True,
                                       default="", choices=PurchaseMotive.choices)
    personality = models.CharField(_("personality"), max_length=12, blank=True, default="",
                                   choices=Personality.choices)
    lifestyle = models.CharField(_("lifestyle"), max_length=300, blank=True, default="")
    brand_attitude = models.CharField(_("attitude to brands and products"), max_length=300,
                                      blank=True, default="")
    # Both kinds: stated intent (意向), for CLV with intent.
    purchase_intent = models.CharField(
        _("purchase intent"), max_length=10, blank=True, default="", db_default="",
        choices=PurchaseIntent.choices)
    intent_change_pct = models.SmallIntegerField(
        _("expected change in spend (%)"), null=True, blank=True,
        validators=[MinValueValidator(-100), MaxValueValidator(1000)],
        help_text=_("Leave empty for the usual figure of the intent: +50% more, -50% less, "
                    "-100% seeking other suppliers."))
    intent_from = models.DateField(_("change expected from"), null=True, blank=True,
                                   help_text=_("Empty: from now."))
    # Organisation.
    industry = models.CharField(_("industry"), max_length=100, blank=True, default="")
    company_size = models.CharField(_("company size"), max_length=10, blank=True, default="",
                                    choices=CompanySize.choices)
    relationship_type = models.CharField(_("relationship type"), max_length=20, blank=True,
                                         default="", choices=RelationshipType.choices)
    registration_number = models.CharField(_("unified social credit code"), max_length=30,
                                           blank=True, default="")
    website = models.URLField(_("website"), blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True,
                                  related_name="customers")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["team", "id"], name="cust_team_id"),
            models.Index(fields=["owner", "id"], name="cust_owner_id"),
            models.Index(fields=["team", "name_pinyin", "id"], name="cust_team_pinyin"),
            models.Index(fields=["name_pinyin", "id"], name="cust_pinyin"),
            models.Index(fields=["name_initials", "id"], name="cust_initials"),
            models.Index(fields=["team", "updated_at", "id"], name="cust_team_updated"),
            models.Index(fields=["updated_at", "id"], name="cust_updated"),
            models.Index(fields=["name"], name="cust_name"),
            models.Index(fields=["primary_email"], name="cust_email"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(GuardedModel):
    """A person at an organisation customer, with their role there."""

    access = AccessPath(owner="organisation__owner", team="organisation__team",
                        grants_from="customers.customer")
    pii_fields = {"phone": "phone", "email": "email"}

    organisation = models.ForeignKey(Customer, verbose_name=_("organisation"),
                                     on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(max_length=200, editable=False, default="")
    name_initials = models.CharField(max_length=60, editable=False, default="")
    role = models.CharField(_("role"), max_length=100, blank=True, default="")
    department = models.CharField(_("department"), max_length=100, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    email = models.EmailField(_("email"), blank=True, default="")
    is_primary = models.BooleanField(_("primary contact"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class ContactPointKind(models.TextChoices):
    MOBILE = "mobile", _("mobile")
    PHONE = "phone", _("landline")
    EMAIL = "email", _("email")
    WECHAT = "wechat", _("WeChat ID")
    QQ = "qq", _("QQ")
    OTHER = "other", _("other")


_CP_MASK = {"mobile": "phone", "phone": "phone", "email": "email", "wechat": "handle",
            "qq": "handle", "other": "handle"}


class ContactPoint(GuardedModel):
    """A way to reach a customer: phone (stored as E.164), email, WeChat ID, QQ, other."""

    access = AccessPath(owner="customer__owner", team="customer__team",
                        grants_from="customers.customer")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="contact_points")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="contact_points")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactPointKind.choices)
    value = models.CharField(_("value"), max_length=254)
    # Search key: national digits for phones, lower-case for the rest.
    normalized = models.CharField(max_length=254, editable=False, default="")
    label = models.CharField(_("label"), max_length=50, blank=True, default="")
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        indexes = [models.Index(fields=["kind", "normalized"], name="cp_kind_norm"),
                   models.Index(fields=["normalized"], name="cp_norm")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def pii_fields(self) -> dict[str, str]:
        return {"value": _CP_MASK.get(self.kind, "handle")}


class AddressKind(models.TextChoices):
    HOME = "home", _("home")
    WORK = "work", _("work")
    BILLING = "billing", _("billing")
    SHIPPING = "shipping", _("shipping")


class Address(GuardedModel):
    access = AccessPath(owner="customer__owner", team="customer__team",
                        grants_from="customers.customer")
    pii_fields = {"street": "street"}

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=10, choices=AddressKind.choices,
                            default=AddressKind.WORK)
    province = models.CharField(_("province"), max_length=30)
    city = models.CharField(_("city"), max_length=50, blank=True, default="")
    district = models.CharField(_("district"), max_length=50, blank=True, default="")
    street = models.CharField(_("street"), max_length=200, blank=True, default="")
    postcode = models.CharField(_("postcode"), max_length=12, blank=True, default="")
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return " ".join(p for p in [self.province, self.city, self.district, self.street] if p)


class ConsentChannel(models.TextChoices):
    ANY = "any", _("any channel")
    EMAIL = "email", _("email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("phone")
    WECHAT = "wechat", _("WeChat")
    MAIL = "mail", _("post")


class ConsentPurpose(models.TextChoices):
    MARKETING = "marketing", _("marketing")
    SERVICE = "service", _("service messages")
    PROFILING = "profiling", _("profiling and analytics")
    THIRD_PARTY = "third_party", _("sharing with third parties")


class Consent(GuardedModel):
    """One consent decision (granted or withdrawn). Append-only: the newest per channel and
    purpose is in force."""

    access = AccessPath(owner="customer__owner", team="customer__team",
                        grants_from="customers.customer")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    source = models.CharField(_("source"), max_length=100, blank=True, default="")
    evidence = models.CharField(_("evidence"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["customer", "channel", "purpose", "-at"],
                                name="consent_current")]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}: {'granted' if self.granted else 'withdrawn'}"


class CustomValue(models.Model):
    """A custom field's value on a customer; a multiple choice has one row per chosen value."""

    access = AccessPath(owner="customer__owner", team="customer__team",
                        grants_from="customers.customer")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE,
                                 related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    text = models.CharField(max_length=500, blank=True, default="")
    number = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["field", "id"]
        indexes = [
            models.Index(fields=["field", "text"], name="cv_text"),
            models.Index(fields=["field", "number"], name="cv_number"),
            models.Index(fields=["field", "date"], name="cv_date"),
        ]

    def __str__(self) -> str:
        return f"{self.field.code}={self.display()}"

    def display(self) -> str:
        if self.number is not None:
            return format(self.number.normalize(), "f")
        if self.date is not None:
            return self.date.isoformat()
        return self.text
