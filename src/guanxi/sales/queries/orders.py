"""Every read of orders, their lines and returns, and of order-import jobs: scoped by the
acting user through the access policy, customers' personal data masked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import NotFound, ValidationError
from guanxi.core.models import JobRun, User
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.customers.models import ContactPoint, Customer
from guanxi.sales.models import (
    ExchangeRate,
    ImportBatch,
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    PaymentStatus,
    Product,
    Quote,
)

SORTS = {
    "-ordered": Sort("ordered_at", True),
    "ordered": Sort("ordered_at", False),
    "-id": Sort("id", True),
    "id": Sort("id", False),
}
LIST_COLUMNS = ("id", "number", "source", "external_id", "customer_id", "customer__id",
                "customer__name", "customer__primary_phone", "customer__primary_email",
                "customer__id_number", "customer__birth_date", "customer__owner_id", "customer__team_id", "status", "payment_status",
                "ordered_at", "currency", "total", "tax_total", "total_cny", "channel",
                "owner_id", "team_id", "version")
IMPORT_JOB_KIND = "sales.order_import"


@dataclass
class OrderFilters:
    """The filters of the order list; the page and the API accept the same names."""

    q: str = ""  # order number (prefix) or external id (exact)
    customer: int | None = None
    status: str = ""
    payment_status: str = ""
    source: str = ""
    ordered_from: dt.date | None = None
    ordered_to: dt.date | None = None


def _scoped(actor: Actor, action: str = "view") -> QuerySet:
    return policy.scope(Order.objects.all(), actor, action)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _apply_filters(qs: QuerySet, f: OrderFilters) -> QuerySet:
    errors: dict[str, list[str]] = {}
    if f.status and f.status not in OrderStatus.values:
        errors["status"] = [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(OrderStatus.values)}]
    if f.payment_status and f.payment_status not in PaymentStatus.values:
        errors["payment_status"] = [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(PaymentStatus.values)}]
    if f.ordered_from and f.ordered_to and f.ordered_from > f.ordered_to:
        errors["ordered_to"] = [_("The end date is before the start date.")]
    if errors:
        raise ValidationError(errors)
    term = (f.q or "").strip()
    if term:
        if term.upper().startswith("SO-"):
            qs = qs.filter(number__startswith=term.upper())
        else:
            qs = qs.filter(external_id=term)
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.payment_status:
        qs = qs.filter(payment_status=f.payment_status)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.ordered_from:
        qs = qs.filter(ordered_at__gte=_day_start(f.ordered_from))
    if f.ordered_to:
        qs = qs.filter(ordered_at__lt=_day_start(f.ordered_to + dt.timedelta(days=1)))
    return qs


def _mask_customers(actor: Actor, orders: list[Order]) -> None:
    if not policy.sees_pii(actor):
        policy.mask(actor, [o.customer for o in orders])


def order_list(*, actor: Actor, filters: OrderFilters | None = None, sort: str = "-ordered",
               cursor: str | None = None, limit: int | None = None,
               count: bool = True) -> Page[Order]:
    """One page of the orders ``actor`` may see, newest first by default; each order's
    customer comes along (name and contact masked for roles without personal data)."""
    if sort not in SORTS:
        raise ValidationError({"sort": [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(SORTS)}]})
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 200))
    qs = _apply_filters(_scoped(actor), filters or OrderFilters())
    qs = qs.select_related("customer").only(*LIST_COLUMNS)
    page = paginate(qs, SORTS[sort], cursor=cursor, limit=limit,
                    count_limit=settings.LIST_COUNT_LIMIT if count else None)
    _mask_customers(actor, page.items)
    return page


def order_get(*, actor: Actor, order_id: int) -> Order:
    """One order with its customer, owner, lines and returns; NotFound outside the scope."""
    try:
        obj = (_scoped(actor).select_related("customer", "owner", "team", "quote")
               .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by(
                   "line_no")), Prefetch("returns", queryset=OrderReturn.objects.order_by(
                       "at", "id")))
               .get(pk=order_id))
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("order not found") from None
    _mask_customers(actor, [obj])
    return obj


def order_for_write(*, actor: Actor, order_id: int, action: str = "change") -> Order:
    """The order row, locked, for a service. NotFound outside the view scope,
    PermissionDenied outside the ``action`` scope."""
    try:
        obj = Order.objects.select_for_update().get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("order not found") from None
    policy.require(actor, action, obj)
    return obj


def order_state(*, actor: Actor, order_id: int) -> dict[str, Any]:
    """The current state shown with a conflict."""
    o = order_get(actor=actor, order_id=order_id)
    return {"number": o.number, "status": o.status, "payment_status": o.payment_status,
            "total": str(o.total), "currency": o.currency, "version": o.version}


def order_lines(*, actor: Actor, order_id: int) -> list[OrderLine]:
    order_get(actor=actor, order_id=order_id)
    return list(OrderLine.objects.filter(order_id=order_id).order_by("line_no"))


def order_returns(*, actor: Actor, order_id: int) -> list[OrderReturn]:
    order_get(actor=actor, order_id=order_id)
    return list(OrderReturn.objects.filter(order_id=order_id).order_by("at", "id"))


def customer_orders(*, actor: Actor, customer_id: int, limit: int = 20) -> list[Order]:
    """A customer's latest orders that ``actor`` may see."""
    qs = _scoped(actor).filter(customer_id=customer_id).select_related("customer")
    rows = list(qs.order_by("-ordered_at", "-id")[:max(1, min(limit, 200))])
    _mask_customers(actor, rows)
    return rows


def returned_amounts(order_id: int) -> tuple[Decimal, Decimal]:
    """(amount, amount in CNY) returned or refunded so far on an order (for services)."""
    agg = OrderReturn.objects.filter(order_id=order_id).aggregate(a=Sum("amount"),
                                                                   c=Sum("amount_cny"))
    cent = Decimal("0.01")
    return ((agg["a"] or Decimal("0")).quantize(cent), (agg["c"] or Decimal("0")).quantize(cent))


def return_by_external_id(order_id: int, external_id: str) -> OrderReturn | None:
    return OrderReturn.objects.filter(order_id=order_id, external_id=external_id).first()


# Look-ups for services (unmasked; they decide nothing about access themselves) ------------

def customers_for_orders(*, actor: Actor, customer_ids: set[int]) -> dict[int, tuple[int,
                                                                               int | None]]:
    """Customer id → (owner id, team id) for the given ids the actor may see."""
    ids = [i for i in customer_ids if isinstance(i, int) and 0 < i < 2**63]
    out: dict[int, tuple[int, int | None]] = {}
    for start in range(0, len(ids), 5000):
        qs = policy.scope(Customer.objects.filter(pk__in=ids[start:start + 5000]), actor)
        for pk, owner, team in qs.values_list("id", "owner_id", "team_id"):
            out[pk] = (owner, team)
    return out


def customers_by_contact(*, actor: Actor, phones: set[str], emails: set[str]
                         ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Normalised phone digits / lower-case email → ids of the visible customers holding it
    (more than one id means the contact point is ambiguous)."""
    visible = policy.scope(Customer.objects.all(), actor).values("id")
    by_phone: dict[str, list[int]] = {}
    by_email: dict[str, list[int]] = {}
    for kinds, values, target in ((("mobile", "phone"), sorted(phones), by_phone),
                                  (("email",), sorted(emails), by_email)):
        for start in range(0, len(values), 2000):
            rows = ContactPoint.objects.filter(
                kind__in=kinds, normalized__in=values[start:start + 2000],
                customer_id__in=visible).values_list("normalized", "customer_id").distinct()
            for norm, cid in rows:
                ids = target.setdefault(norm, [])
                if cid not in ids:
                    ids.append(cid)
    return by_phone, by_email


def products_for_orders(*, ids: set[int], skus: set[str]) -> tuple[dict[int, Product],
                                                                  dict[str, Product]]:
    """Products by id and by SKU (reference data, visible to everyone)."""
    by_id: dict[int, Product] = {}
    by_sku: dict[str, Product] = {}
    qs = Product.objects.select_related("tax_rate").only(
        "id", "sku", "name", "cost", "tax_rate__rate")
    id_list, sku_list = sorted(ids), sorted(skus)
    for start in range(0, len(id_list), 2000):
        for p in qs.filter(pk__in=id_list[start:start + 2000]):
            by_id[p.pk] = p
    for start in range(0, len(sku_list), 2000):
        for p in qs.filter(sku__in=sku_list[start:start + 2000]):
            by_sku[p.sku] = p
    return by_id, by_sku


def exchange_rates(currencies: set[str]) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """All rates of the given currencies, oldest first (reference data)."""
    out: dict[str, list[tuple[dt.date, Decimal]]] = {c: [] for c in currencies}
    rows = (ExchangeRate.objects.filter(currency__in=sorted(currencies))
            .order_by("currency", "valid_from").values_list("currency", "valid_from", "rate"))
    for currency, valid_from, rate in rows:
        out[currency].append((valid_from, rate))
    return out


def existing_external_ids(source: str, external_ids: list[str]) -> dict[str, int]:
    """external id → order id of the orders already imported from ``source`` (whoever owns
    them: the unique key is global)."""
    out: dict[str, int] = {}
    for start in range(0, len(external_ids), 2000):
        rows = Order.objects.filter(source=source,
                                    external_id__in=external_ids[start:start + 2000])
        out.update(rows.values_list("external_id", "id"))
    return out


def order_by_external_id(source: str, external_id: str) -> Order | None:
    return Order.objects.filter(source=source, external_id=external_id).first()


def quote_belongs_to(quote_id: int, customer_id: int) -> bool:
    return Quote.objects.filter(pk=quote_id, customer_id=customer_id).exists()


def last_number_seq(stem: str, *, thorough: bool = False) -> int:
    """The highest sequence number used after ``stem`` (e.g. ``SO-202606-``). The quick
    reading looks at the newest orders; the thorough one at every number of the month
    (longest first, so 100000 beats 99999)."""
    qs = Order.objects.filter(number__startswith=stem)
    if thorough:
        from django.db.models.functions import Length

        numbers = list(qs.annotate(n=Length("number")).order_by("-n", "-number")
                       .values_list("number", flat=True)[:1])
    else:
        numbers = list(qs.order_by("-id").values_list("number", flat=True)[:50])
    seqs = [int(n[len(stem):]) for n in numbers if n[len(stem):].isdigit()]
    return max(seqs, default=0)


# Import jobs -----------------------------------------------------------------------------

JOB_COLUMNS = ("id", "kind", "status", "actor_id", "cursor", "done", "total", "error",
               "created_at", "updated_at")


@dataclass
class ImportProgress:
    job: JobRun
    created: int
    skipped: int
    batches: int
    filename: str
    errors: list[dict[str, Any]]

    @property
    def percent(self) -> int:
        if not self.job.total:
            return 100 if self.job.status == JobRun.Status.DONE else 0
        return min(100, int(self.job.done * 100 / self.job.total))

    @property
    def finished(self) -> bool:
        return self.job.status in (JobRun.Status.DONE, JobRun.Status.FAILED)

    @property
    def phase(self) -> str:
        """queued, invalid (the file has errors), write, done."""
        return self.job.phase or ""

    @property
    def resumable(self) -> bool:
        """Failed while writing (not for errors in the file), or without progress for ten
        minutes while queued or running (its worker died)."""
        if self.job.status == JobRun.Status.FAILED:
            return self.phase in ("queued", "write")
        stale = self.job.updated_at < timezone.now() - dt.timedelta(minutes=10)
        return self.job.status in (JobRun.Status.RUNNING, JobRun.Status.QUEUED) and stale


def _job(actor: Actor, job_id: int, *, with_file: bool = False) -> JobRun:
    """The job row for its starter or an administrator; the uploaded file (in ``params``)
    is read only when ``with_file``: a progress poll reads the small columns."""
    qs = JobRun.objects.filter(pk=job_id, kind=IMPORT_JOB_KIND)
    if with_file:
        qs = qs.only(*JOB_COLUMNS, "params")
    else:
        qs = qs.only(*JOB_COLUMNS).annotate(filename=KT("params__filename"),
                                            phase=KT("params__phase"))
    try:
        job = qs.get()
    except (JobRun.DoesNotExist, ValueError, TypeError):
        raise NotFound("import not found") from None
    role = actor.user.role
    is_admin = bool(role and role.is_admin and actor.user.is_active)
    if job.actor_id != actor.user.pk and not is_admin:
        raise NotFound("import not found")
    return job


def import_job_get(*, actor: Actor, job_id: int) -> ImportProgress:
    """An order import's progress: for the user who started it (and administrators)."""
    import json

    job = _job(actor, job_id)
    agg = ImportBatch.objects.filter(job_id=job.pk).aggregate(
        created=Sum("created"), skipped=Sum("skipped"), batches=Count("id"))
    try:
        errors = json.loads(job.error) if job.error else []
    except ValueError:
        errors = [{"line": None, "column": None, "message": job.error}]
    return ImportProgress(job=job, created=agg["created"] or 0, skipped=agg["skipped"] or 0,
                          batches=agg["batches"] or 0, filename=job.filename or "",
                          errors=errors if isinstance(errors, list) else [])


def import_jobs_recent(*, actor: Actor, limit: int = 10) -> list[JobRun]:
    """The actor's latest order imports."""
    return list(JobRun.objects.only(*JOB_COLUMNS).filter(
        kind=IMPORT_JOB_KIND, actor_id=actor.user.pk).order_by("-created_at", "-id")[:limit])


def import_job_for_run(*, actor: Actor, job_id: int) -> JobRun:
    """The whole job row (with the file) for the service that runs it."""
    return _job(actor, job_id, with_file=True)


def lock_job(job_id: int) -> None:
    """Lock an import job's row for the batch being written (two workers never commit the
    same batch)."""
    list(JobRun.objects.select_for_update().filter(pk=job_id).values_list("id", flat=True))


def import_batches_done(job_id: int) -> set[int]:
    return set(ImportBatch.objects.filter(job_id=job_id).values_list("batch_no", flat=True))


def job_actor(*, actor_id: int, channel: str = "import") -> Actor:
    """The actor a background job acts for, rebuilt from its id."""
    try:
        user = User.objects.select_related("role", "team").get(pk=actor_id)
    except User.DoesNotExist:
        raise NotFound("user not found") from None
    return Actor(user=user, channel=channel)
