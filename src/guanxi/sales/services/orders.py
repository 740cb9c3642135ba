"""Every write to orders: create (by hand, from a quote, through the API), status and
payment changes, cancellation, returns and refunds, and bulk import from an ERP or a shop
(API batches and CSV files).

Orders that arrive from outside carry ``source`` and ``external_id``; the pair is unique in
the database, so a re-sent order is skipped and reported, never counted twice. Bulk imports
write one transaction per batch (orders, lines, an audit record per order, and for a CSV
job the batch's ``ImportBatch`` row and the job's progress), so a crash loses at most the
batch in flight and a restart resumes at the next batch with no duplicates and no gaps.

Prices are net of VAT: a line's amount is ``money(quantity × unit_price)``, its tax
``money(amount × tax_rate)``; the order's ``total`` is the amounts plus ``tax_total``, and
``total_cny`` converts it with the exchange rate valid on the order's date.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import csv
import datetime as dt
import gc
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.access import Actor, policy
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, PermissionDenied, ValidationError
from guanxi.core.models import JobRun
from guanxi.core.text import PhoneError, normalize_phone
from guanxi.sales.models import (
    Currency,
    ImportBatch,
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    PaymentStatus,
    ReturnKind,
)
from guanxi.sales.queries import orders as queries
from guanxi.sales.services.common import CENT, money

ZERO = Decimal("0")
#: The largest amount a money column holds (18 digits, 2 of them decimals).
MONEY_LIMIT = Decimal("1e16")
#: Which status may follow which; completed and cancelled orders are final (returns and
#: refunds are their own records).
STATUS_FLOW: dict[str, set[str]] = {
    OrderStatus.OPEN: {OrderStatus.CONFIRMED, OrderStatus.CANCELLED},
    OrderStatus.CONFIRMED: {OrderStatus.OPEN, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                            OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED},
    OrderStatus.COMPLETED: set(),
    OrderStatus.CANCELLED: set(),
}
STATE_FIELDS = ["status", "payment_status"]
RETURN_FIELDS = ["order", "kind", "amount", "amount_cny", "reason", "at", "external_id"]
IMPORT_BATCH_SIZE = 1000  # orders per transaction
MAX_ERRORS = 200  # errors kept per import


# Parsing input (API payloads, Python callers and CSV cells alike) ----------------------------

class _Bad(ValueError):
    """A value that cannot be used; the message says why."""


def _blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and not value.strip())


def _text(value: Any, max_length: int, *, required: bool = False) -> str:
    if value.__class__ is str:
        text = value.strip()
    elif value is None:
        text = ""
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = str(value)
    else:
        raise _Bad(_("Enter text."))
    if required and not text:
        raise _Bad(_("This field is required."))
    if len(text) > max_length:
        raise _Bad(_("At most %(n)d characters.") % {"n": max_length})
    return text


_QUANTUM = {2: Decimal("0.01"), 3: Decimal("0.001"), 4: Decimal("0.0001")}


def _decimal(value: Any, places: int, max_digits: int, *, positive: bool = False,
             percent: bool = False, maximum: Decimal | None = None) -> Decimal:
    """A Decimal with at most ``places`` decimals that fits ``max_digits`` digits; text may
    use thousands separators, and a percentage (``13%``) where ``percent``."""
    cls = value.__class__
    try:
        if cls is Decimal:
            number = value
        elif cls is str or cls is int:
            if cls is str:
                text = value.strip()
                if "," in text:
                    text = text.replace(",", "")
                if percent and text.endswith("%"):
                    number = Decimal(text[:-1].strip()) / 100
                else:
                    number = Decimal(text)
            else:
                number = Decimal(value)
        elif cls is float:
            number = Decimal(repr(value))
        elif isinstance(value, Decimal | int) and not isinstance(value, bool):
            number = Decimal(value)
        else:
            raise _Bad(_("Enter a number."))
    except (InvalidOperation, ValueError):
        raise _Bad(_("Enter a number.")) from None
    if not number.is_finite():
        raise _Bad(_("Enter a number."))
    if number <= 0 and (positive or number < 0):
        raise _Bad(_("Must be greater than zero.") if positive else _("Must not be negative."))
    if maximum is not None and number > maximum:
        raise _Bad(_("At most %(max)s.") % {"max": maximum})
    if number >= _CEILINGS[max_digits - places]:
        raise _Bad(_("Too large."))
    if number.quantize(_QUANTUM[places]) != number:
        raise _Bad(_("At most %(n)d decimal places.") % {"n": places})
    return number


_CEILINGS = {n: Decimal(10) ** n for n in range(1, 20)}
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


def _datetime(value: Any, now: dt.datetime | None = None) -> dt.datetime:
    """A datetime from a datetime, a date or text such as ``2025-06-18``, ``2025/6/18 14:30``
    or ISO 8601 with an offset; without a zone it is read in the site's time zone."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.min)
    else:
        text = str(value).strip()
        match = _DATE.fullmatch(text)
        try:
            if match:
                y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
                moment = dt.datetime(y, mo, d, h, mi, s)
            else:
                moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(_("Enter a date and time such as 2025-06-18 14:30.")) from None
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    if moment > (now or timezone.now()) + dt.timedelta(days=1):
        raise _Bad(_("The date lies in the future."))
    if moment < _EARLIEST:
        raise _Bad(_("The date is too early."))
    return moment


def _id(value: Any) -> int:
    if value.__class__ is int:
        number = value
    elif isinstance(value, bool):
        raise _Bad(_("Enter a whole number."))
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _Bad(_("Enter a whole number.")) from None
    if not 0 < number < 2**63:
        raise _Bad(_("Enter a whole number."))
    return number


CURRENCIES = tuple(Currency.values)
STATUSES = tuple(OrderStatus.values)
PAYMENTS = tuple(PaymentStatus.values)


def _choice(value: Any, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    text = value.strip() if value.__class__ is str else str(value).strip()
    if not text:
        return default
    if text not in choices:
        raise _Bad(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return text


@dataclass(slots=True)
class _Line:
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal | None
    unit_cost: Decimal | None


@dataclass(slots=True)
class _Draft:
    """An order as given, with types checked (nothing looked up yet)."""

    source: str
    external_id: str | None
    customer_id: int | None
    customer_phone: str
    customer_email: str
    ordered_at: dt.datetime
    currency: str
    channel: str
    status: str
    payment_status: str
    quote_id: int | None
    lines: list[_Line]

    @property
    def key(self) -> tuple[str, str | None]:
        return self.source, self.external_id


def _parse_order(raw: Mapping[str, Any], *, imported: bool,
                 now: dt.datetime | None = None) -> _Draft:
    """Check the shape of one order; errors keyed by field (``lines.0.quantity``). An
    imported order needs ``external_id`` and ``ordered_at``."""
    errors: dict[str, list[str]] = {}
    get = raw.get
    now = now or timezone.now()
    source = external_id = customer_id = quote_id = None
    phone = email = channel = ""
    ordered_at, currency = now, "CNY"
    status, payment = OrderStatus.CONFIRMED.value, PaymentStatus.UNPAID.value
    try:
        source = _text(get("source"), 30, required=imported) or "crm"
    except _Bad as exc:
        errors["source"] = [str(exc)]
    try:
        external_id = _text(get("external_id"), 80, required=imported) or None
    except _Bad as exc:
        errors["external_id"] = [str(exc)]
    value = get("customer_id")
    if not _blank(value):
        try:
            customer_id = _id(value)
        except _Bad as exc:
            errors["customer_id"] = [str(exc)]
    value = get("customer_phone")
    if not _blank(value):
        try:
            phone = normalize_phone(_text(value, 40))[1]
        except _Bad as exc:
            errors["customer_phone"] = [str(exc)]
        except PhoneError as exc:
            errors["customer_phone"] = [_("Not a valid phone number (%(reason)s).") % {
                "reason": exc}]
    value = get("customer_email")
    if not _blank(value):
        try:
            email = _text(value, 254).lower()
        except _Bad as exc:
            errors["customer_email"] = [str(exc)]
    if customer_id is None and not phone and not email and not errors.keys() & {
            "customer_id", "customer_phone", "customer_email"}:
        errors["customer_id"] = [_("Give the customer's id (or a phone number or email "
                                   "address on file).")]
    value = get("ordered_at")
    if _blank(value):
        if imported:
            errors["ordered_at"] = [_("This field is required.")]
    else:
        try:
            ordered_at = _datetime(value, now)
        except _Bad as exc:
            errors["ordered_at"] = [str(exc)]
    for name, choices in (("currency", CURRENCIES), ("status", STATUSES),
                          ("payment_status", PAYMENTS)):
        value = get(name)
        if value is not None and value != "":
            try:
                value = _choice(value, choices, "")
            except _Bad as exc:
                errors[name] = [str(exc)]
                continue
            if value:
                if name == "currency":
                    currency = value
                elif name == "status":
                    status = value
                else:
                    payment = value
    try:
        channel = _text(get("channel"), 30)
    except _Bad as exc:
        errors["channel"] = [str(exc)]
    value = get("quote_id")
    if not _blank(value):
        try:
            quote_id = _id(value)
        except _Bad as exc:
            errors["quote_id"] = [str(exc)]
    raw_lines = get("lines")
    lines: list[_Line] = []
    if not isinstance(raw_lines, list | tuple) or not raw_lines:
        errors["lines"] = [_("Give at least one line.")]
    elif len(raw_lines) > 1000:
        errors["lines"] = [_("At most 1,000 lines per order.")]
    else:
        for i, rl in enumerate(raw_lines):
            line = _parse_line(rl if isinstance(rl, Mapping) else {}, i, errors)
            if line is not None:
                lines.append(line)
    if errors:
        raise ValidationError(errors)
    return _Draft(source, external_id, customer_id, phone, email, ordered_at, currency,
                  channel, status, payment, quote_id, lines)


def _parse_line(raw: Mapping[str, Any], index: int,
                errors: dict[str, list[str]]) -> _Line | None:
    get = raw.get
    failed: dict[str, str] = {}
    product_id = tax_rate = unit_cost = quantity = unit_price = None
    sku = description = ""
    value = get("product_id")
    if not _blank(value):
        try:
            product_id = _id(value)
        except _Bad as exc:
            failed["product_id"] = str(exc)
    try:
        sku = _text(get("sku"), 60)
    except _Bad as exc:
        failed["sku"] = str(exc)
    try:
        description = _text(get("description"), 300)
    except _Bad as exc:
        failed["description"] = str(exc)
    value = get("quantity")
    if _blank(value):
        failed["quantity"] = _("This field is required.")
    else:
        try:
            quantity = _decimal(value, 3, 14, positive=True)
        except _Bad as exc:
            failed["quantity"] = str(exc)
    value = get("unit_price")
    if _blank(value):
        failed["unit_price"] = _("This field is required.")
    else:
        try:
            unit_price = _decimal(value, 2, 18)
        except _Bad as exc:
            failed["unit_price"] = str(exc)
    value = get("tax_rate")
    if not _blank(value):
        try:
            tax_rate = _decimal(value, 4, 6, percent=True, maximum=_ONE)
        except _Bad as exc:
            failed["tax_rate"] = str(exc)
    value = get("unit_cost")
    if not _blank(value):
        try:
            unit_cost = _decimal(value, 2, 18)
        except _Bad as exc:
            failed["unit_cost"] = str(exc)
    if not failed and not sku and not description and product_id is None:
        failed["description"] = _("Give a product, a SKU or a description.")
    if failed:
        for name, message in failed.items():
            errors[f"lines.{index}.{name}"] = [message]
        return None
    return _Line(product_id, sku, description, quantity, unit_price, tax_rate, unit_cost)


_ONE = Decimal(1)


# Looking things up once per batch --------------------------------------------------------

class _RateBook:
    """Exchange rates held in memory: the same answer as ``common.to_cny`` (the latest rate
    on or before the date) without a query per order."""

    def __init__(self) -> None:
        self.dates: dict[str, list[dt.date]] = {}
        self.rates: dict[str, list[Decimal]] = {}

    def load(self, currencies: set[str]) -> None:
        wanted = {c for c in currencies if c != "CNY" and c not in self.dates}
        if wanted:
            for cur, rows in queries.exchange_rates(wanted).items():
                self.dates[cur] = [d for d, _r in rows]
                self.rates[cur] = [r for _d, r in rows]

    def rate(self, currency: str, on: dt.date) -> Decimal | None:
        if currency == "CNY":
            return Decimal(1)
        dates = self.dates.get(currency, [])
        i = bisect.bisect_right(dates, on)
        return self.rates[currency][i - 1] if i else None


class _Context:
    """What pricing needs, loaded in bulk: visible customers, products, exchange rates, and
    which (owner, team) pairs the actor may add orders for."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.tz = timezone.get_current_timezone()
        self.customers: dict[int, tuple[int, int | None]] = {}
        self.customers_checked: set[int] = set()
        self.by_phone: dict[str, list[int]] = {}
        self.by_email: dict[str, list[int]] = {}
        self.contacts_checked: set[tuple[str, str]] = set()
        self.products_by_id: dict[int, Any] = {}
        self.products_by_sku: dict[str, Any] = {}
        self.products_checked: set[Any] = set()
        self.rates = _RateBook()
        self._may_add: dict[tuple[int, int | None], bool] = {}

    def prepare(self, drafts: Iterable[_Draft]) -> None:
        ids, phones, emails, product_ids, skus, currencies = set(), set(), set(), set(), \
            set(), set()
        for d in drafts:
            if d.customer_id is not None:
                ids.add(d.customer_id)
            elif d.customer_phone:
                phones.add(d.customer_phone)
            elif d.customer_email:
                emails.add(d.customer_email)
            currencies.add(d.currency)
            for line in d.lines:
                if line.product_id is not None:
                    product_ids.add(line.product_id)
                elif line.sku:
                    skus.add(line.sku)
        self.load(ids=ids, phones=phones, emails=emails, product_ids=product_ids, skus=skus,
                  currencies=currencies)

    def load(self, *, ids: set[int], phones: set[str], emails: set[str],
             product_ids: set[int], skus: set[str], currencies: set[str]) -> None:
        phones = {p for p in phones if ("p", p) not in self.contacts_checked}
        emails = {e for e in emails if ("e", e) not in self.contacts_checked}
        if phones or emails:
            by_phone, by_email = queries.customers_by_contact(actor=self.actor, phones=phones,
                                                              emails=emails)
            self.by_phone.update(by_phone)
            self.by_email.update(by_email)
            self.contacts_checked |= {("p", p) for p in phones} | {("e", e) for e in emails}
            for found in (*by_phone.values(), *by_email.values()):
                ids.update(found)
        ids -= self.customers_checked
        if ids:
            self.customers.update(queries.customers_for_orders(actor=self.actor,
                                                               customer_ids=ids))
            self.customers_checked |= ids
        product_ids = {p for p in product_ids if ("i", p) not in self.products_checked}
        skus = {s for s in skus if ("s", s) not in self.products_checked}
        if product_ids or skus:
            by_id, by_sku = queries.products_for_orders(ids=product_ids, skus=skus)
            self.products_by_id.update(by_id)
            self.products_by_sku.update(by_sku)
            self.products_checked |= {("i", p) for p in product_ids} | {("s", s) for s in skus}
        self.rates.load(currencies)

    def may_add(self, owner_id: int, team_id: int | None) -> bool:
        key = (owner_id, team_id)
        if key not in self._may_add:
            self._may_add[key] = policy.allows(self.actor, "add",
                                               Order(owner_id=owner_id, team_id=team_id))
        return self._may_add[key]

    def customer_of(self, d: _Draft) -> tuple[int | None, str, str]:
        """(customer id or None, the field to blame, the reason)."""
        if d.customer_id is not None:
            if d.customer_id in self.customers:
                return d.customer_id, "", ""
            return None, "customer_id", _("No such customer.")
        name, value, table = (("customer_phone", d.customer_phone, self.by_phone)
                              if d.customer_phone else
                              ("customer_email", d.customer_email, self.by_email))
        found = table.get(value, [])
        if not found:
            return None, name, _("No customer you can see has this contact point.")
        if len(found) > 1:
            return None, name, _("Several customers have this contact point; give "
                                 "customer_id.")
        return found[0], "", ""


#: The columns of an order line as the services hold it (a tuple, cheaper than a model
#: instance when an import carries a million of them).
LINE_FIELDS = ("order_id", "product_id", "sku", "description", "quantity", "unit_price",
               "amount", "tax_rate", "unit_cost", "line_no")
#: The columns of a new order, in the model's field order (id first).
ORDER_FIELDS = tuple(f.attname for f in Order._meta.concrete_fields)


@dataclass(slots=True)
class _Priced:
    """An order ready to write: amounts computed, owner and team taken from the customer;
    ``lines`` are tuples of :data:`LINE_FIELDS` without the order id."""

    draft: _Draft
    customer_id: int
    owner_id: int
    team_id: int | None
    may_add: bool
    total: Decimal
    tax_total: Decimal
    total_cny: Decimal
    cost_cny: Decimal | None
    lines: list[tuple] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None]:
        return self.draft.key


def _price(d: _Draft, ctx: _Context) -> _Priced:
    """Look up the customer, products and exchange rate and compute the amounts; errors
    keyed by field."""
    errors: dict[str, list[str]] = {}
    customer_id, blame, reason = ctx.customer_of(d)
    owner_id, team_id = ctx.customers.get(customer_id, (0, None)) if customer_id else (0, None)
    if customer_id is None:
        errors[blame] = [reason]
    lines: list[tuple] = []
    net = tax = cost = ZERO
    costs_known = True
    by_id, by_sku = ctx.products_by_id, ctx.products_by_sku
    for i, ln in enumerate(d.lines):
        product = None
        if ln.product_id is not None:
            product = by_id.get(ln.product_id)
            if product is None:
                errors[f"lines.{i}.product_id"] = [_("No such product.")]
                continue
        elif ln.sku and by_sku:
            product = by_sku.get(ln.sku)
        rate, unit_cost = ln.tax_rate, ln.unit_cost
        sku, description = ln.sku, ln.description
        if product is not None:
            rate = product.tax_rate.rate if rate is None else rate
            unit_cost = product.cost if unit_cost is None else unit_cost
            sku, description = sku or product.sku, description or product.name[:300]
        elif rate is None:
            rate = ZERO
        raw_amount = ln.quantity * ln.unit_price
        if raw_amount >= MONEY_LIMIT:
            errors[f"lines.{i}.quantity"] = [_("The line's amount is too large.")]
            continue
        amount = raw_amount.quantize(CENT, rounding=ROUND_HALF_UP)
        net += amount
        tax += (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        if unit_cost is None:
            costs_known = False
        else:
            cost += ln.quantity * unit_cost
        lines.append((None, product.pk if product is not None else None, sku, description,
                      ln.quantity, ln.unit_price, amount, rate, unit_cost, i + 1))
    total = net + tax
    total_cny = cost_cny = None
    if total >= MONEY_LIMIT:
        errors.setdefault("lines", []).append(_("The order's total is too large."))
    day = d.ordered_at.astimezone(ctx.tz).date()
    fx = ctx.rates.rate(d.currency, day)
    if fx is None:
        errors.setdefault("currency", []).append(
            _("No exchange rate for %(currency)s on or before %(date)s: add one under "
              "Settings.") % {"currency": d.currency, "date": day.isoformat()})
    elif not errors:
        if total * fx >= MONEY_LIMIT or (costs_known and cost * fx >= MONEY_LIMIT):
            errors.setdefault("lines", []).append(_("The order's total is too large."))
        else:
            total_cny = money(total * fx)
            cost_cny = money(cost * fx) if costs_known else None
    if errors:
        raise ValidationError(errors)
    return _Priced(d, customer_id, owner_id, team_id, ctx.may_add(owner_id, team_id), total,
                   tax, total_cny, cost_cny, lines)


def _order_values(p: _Priced, pk: int | None, number: str, now: dt.datetime) -> tuple:
    d = p.draft
    values = {"id": pk, "number": number, "source": d.source, "external_id": d.external_id,
              "customer_id": p.customer_id, "quote_id": d.quote_id, "status": d.status,
              "payment_status": d.payment_status, "ordered_at": d.ordered_at,
              "currency": d.currency, "total": p.total, "tax_total": p.tax_total,
              "total_cny": p.total_cny, "cost_cny": p.cost_cny, "channel": d.channel,
              "owner_id": p.owner_id, "team_id": p.team_id, "version": 1, "created_at": now}
    return tuple(values[name] for name in ORDER_FIELDS)


def _created_changes(order: Order, lines: list[tuple]) -> dict[str, list[Any]]:
    """The audit record of a new order: its fields and a one-line summary per line."""
    after = {
        "number": order.number, "source": order.source, "external_id": order.external_id,
        "customer": order.customer_id, "quote": order.quote_id, "status": order.status,
        "payment_status": order.payment_status, "ordered_at": order.ordered_at.isoformat(),
        "currency": order.currency, "total": str(order.total),
        "tax_total": str(order.tax_total), "total_cny": str(order.total_cny),
        "cost_cny": None if order.cost_cny is None else str(order.cost_cny),
        "channel": order.channel,
        "lines": [f"{ln[2] or ln[3]} × {ln[4]} @ {ln[5]}" for ln in lines],
    }
    return {k: [None, v] for k, v in after.items() if v is not None and v != ""}


def _insert_rows(model, names: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows of plain values. PostgreSQL: COPY (about a tenth of ``bulk_create``'s
    cost per row, which matters for imports of a million lines); elsewhere ``bulk_create``.
    The rows come from services that have checked them; nothing here decides access."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(model._meta.get_field(n).column) for n in names)
        with connection.wrap_database_errors, connection.cursor() as cursor, \
                cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) "
                                   f"FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    model.objects.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows],
                              batch_size=2000)


def _next_ids(model, count: int) -> list[int]:
    """Draw ``count`` ids from the table's sequence (PostgreSQL), so that rows written with
    COPY can be referred to before they exist."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s)",
                       [model._meta.db_table, model._meta.pk.column, count])
        return [row[0] for row in cursor.fetchall()]


def _reserve_numbers(count: int, *, thorough: bool = False) -> list[str]:
    """``count`` consecutive numbers ``SO-YYYYMM-00001`` for this month (the same form as
    ``common.next_number``; past 99,999 a month they grow a digit). A writer racing for the
    same numbers loses on the unique constraint and retries with ``thorough``."""
    stem = f"SO-{timezone.localdate():%Y%m}-"
    last = queries.last_number_seq(stem, thorough=thorough)
    return [f"{stem}{seq:05d}" for seq in range(last + 1, last + 1 + count)]


# Create one order -------------------------------------------------------------------------

def order_create(*, actor: Actor, customer_id: int, lines: list[dict],
                 source: str = "crm", external_id: str | None = None,
                 ordered_at: dt.datetime | None = None, currency: str = "CNY",
                 channel: str = "", quote_id: int | None = None,
                 status: str = "confirmed", payment_status: str = "unpaid",
                 customer_phone: str = "", customer_email: str = "") -> Order:
    """Create an order with its lines. Action ``add`` on orders: the customer must be
    visible to the actor and the order (owner and team are the customer's) inside the
    actor's ``add`` scope. Line dicts: ``product_id`` (optional), ``sku``, ``description``,
    ``quantity``, ``unit_price``, ``tax_rate`` (a fraction, e.g. 0.13; default: the
    product's rate), ``unit_cost`` (optional; default: the product's cost).

    Computes line amounts, ``tax_total``, ``total``, ``total_cny`` (exchange rate of the
    order's date) and ``cost_cny`` when every line's cost is known; numbers the order
    ``SO-YYYYMM-nnnnn``. With a ``source``/``external_id`` already on file the existing order
    is returned (``order.created`` is False) and nothing is written. Audit ``create``;
    event ``sales.order_created``."""
    policy.require_model(actor, Order, "add")
    draft = _parse_order({"customer_id": customer_id, "customer_phone": customer_phone,
                          "customer_email": customer_email, "lines": lines,
                          "source": source, "external_id": external_id,
                          "ordered_at": ordered_at, "currency": currency, "channel": channel,
                          "quote_id": quote_id, "status": status,
                          "payment_status": payment_status}, imported=False)
    with transaction.atomic():
        if draft.external_id:
            existing = _existing_for(actor, draft)
            if existing is not None:
                return existing
        ctx = _Context(actor)
        ctx.prepare([draft])
        priced = _price(draft, ctx)
        if not priced.may_add:
            raise PermissionDenied(_("You may not add orders for this customer."))
        if draft.quote_id is not None and not queries.quote_belongs_to(draft.quote_id,
                                                                        priced.customer_id):
            raise ValidationError({"quote_id": [_("No such quote for this customer.")]})
        now = timezone.now()
        for attempt in range(5):
            try:
                with transaction.atomic():
                    values = _order_values(priced, None, _reserve_numbers(
                        1, thorough=attempt > 0)[0], now)
                    order = Order(**dict(zip(ORDER_FIELDS, values, strict=True)))
                    order.save()
                    _insert_rows(OrderLine, LINE_FIELDS,
                                 [(order.pk, *ln[1:]) for ln in priced.lines])
                break
            except IntegrityError:
                if draft.external_id:
                    existing = _existing_for(actor, draft)
                    if existing is not None:
                        return existing
                if attempt == 4:
                    raise
        audit.record(actor, order, "create", changes=_created_changes(order, priced.lines),
                     customer_id=order.customer_id)
        emit("sales.order_created", order_id=order.pk, customer_id=order.customer_id,
             actor_id=actor.user.pk)
    order.created = True
    return order


def _existing_for(actor: Actor, draft: _Draft) -> Order | None:
    existing = queries.order_by_external_id(draft.source, draft.external_id)
    if existing is None:
        return None
    if not policy.allows(actor, "view", existing):
        raise ValidationError({"external_id": [
            _("Another order already uses this source and external id.")]})
    existing.created = False
    return existing


# Status, payment, cancellation ------------------------------------------------------------

def order_update(*, actor: Actor, order_id: int, version: int, status: str | None = None,
                 payment_status: str | None = None, reason: str = "") -> Order:
    """Change an order's status and/or payment status. Action ``change``; a stale
    ``version`` is a Conflict carrying the current state; status moves along
    :data:`STATUS_FLOW`. Audit ``update`` (old and new values); event
    ``sales.order_updated`` (and ``sales.order_cancelled`` on cancellation)."""
    errors: dict[str, list[str]] = {}
    if status is not None and status not in OrderStatus.values:
        errors["status"] = [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(OrderStatus.values)}]
    if payment_status is not None and payment_status not in PaymentStatus.values:
        errors["payment_status"] = [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(PaymentStatus.values)}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = queries.order_for_write(actor=actor, order_id=order_id)
        if order.version != version:
            raise Conflict(_("This order was changed by someone else."),
                           current=queries.order_state(actor=actor, order_id=order_id),
                           current_version=order.version)
        before = audit.snapshot(order, STATE_FIELDS)
        changes: dict[str, str] = {}
        if status is not None and status != order.status:
            if status not in STATUS_FLOW[order.status]:
                raise ValidationError({"status": [
                    _("An order that is %(old)s cannot become %(new)s.") % {
                        "old": order.get_status_display(),
                        "new": OrderStatus(status).label}]})
            changes["status"] = status
        if payment_status is not None and payment_status != order.payment_status:
            if order.status == OrderStatus.CANCELLED and status is None and \
                    payment_status != PaymentStatus.REFUNDED:
                raise ValidationError({"payment_status": [
                    _("A cancelled order can only be marked refunded.")]})
            changes["payment_status"] = payment_status
        if not changes:
            return order
        updated = Order.objects.filter(pk=order.pk, version=version).update(
            version=F("version") + 1, **changes)
        if updated != 1:
            raise Conflict(_("This order was changed by someone else."))
        for name, value in changes.items():
            setattr(order, name, value)
        order.version = version + 1
        diff = audit.diff(before, audit.snapshot(order, STATE_FIELDS))
        if reason:
            diff["reason"] = [None, reason[:300]]
        audit.record(actor, order, "update", changes=diff, customer_id=order.customer_id)
        emit("sales.order_updated", order_id=order.pk, customer_id=order.customer_id,
             fields=sorted(changes), actor_id=actor.user.pk)
        if changes.get("status") == OrderStatus.CANCELLED:
            emit("sales.order_cancelled", order_id=order.pk, customer_id=order.customer_id,
                 actor_id=actor.user.pk)
    return order


def order_update_status(*, actor: Actor, order_id: int, version: int, status: str) -> Order:
    """Move an order to another status (see :func:`order_update`)."""
    return order_update(actor=actor, order_id=order_id, version=version, status=status)


def order_update_payment(*, actor: Actor, order_id: int, version: int,
                         payment_status: str) -> Order:
    """Record the payment status (see :func:`order_update`)."""
    return order_update(actor=actor, order_id=order_id, version=version,
                        payment_status=payment_status)


def order_cancel(*, actor: Actor, order_id: int, version: int, reason: str = "") -> Order:
    """Cancel an open or confirmed order (shipped goods come back as returns instead).
    The reason goes into the audit record. Event ``sales.order_cancelled``."""
    return order_update(actor=actor, order_id=order_id, version=version,
                        status=OrderStatus.CANCELLED, reason=reason)


# Returns and refunds ----------------------------------------------------------------------

def return_create(*, actor: Actor, order_id: int, kind: str, amount: Decimal | str,
                  reason: str = "", at: dt.datetime | None = None,
                  external_id: str | None = None) -> OrderReturn:
    """Record a return of goods or a refund against an order. Action ``change`` on the
    order. The amount (order currency) may not exceed the order's total less earlier
    returns; its CNY value is the same share of ``total_cny`` (a full return nets the order
    to zero). Goods come back only from shipped or completed orders. Returning the rest of a
    paid order marks it refunded. With an ``external_id`` already recorded on this order the
    existing record is returned. Audit ``create``; event ``sales.return_created``."""
    errors: dict[str, list[str]] = {}
    if kind not in ReturnKind.values:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(ReturnKind.values)}]
    try:
        value = _decimal(amount, places=2, max_digits=18, positive=True)
    except _Bad as exc:
        errors["amount"] = [str(exc)]
        value = ZERO
    try:
        reason = _text(reason, 300)
        external_id = _text(external_id, 80) or None
    except _Bad as exc:
        errors["reason"] = [str(exc)]
    when = timezone.now()
    if at is not None:
        try:
            when = _datetime(at)
        except _Bad as exc:
            errors["at"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = queries.order_for_write(actor=actor, order_id=order_id)
        if external_id:
            existing = queries.return_by_external_id(order.pk, external_id)
            if existing is not None:
                return existing
        if order.status == OrderStatus.CANCELLED:
            raise ValidationError({"order": [_("A cancelled order has nothing to return.")]})
        if kind == ReturnKind.RETURN and order.status not in (OrderStatus.SHIPPED,
                                                              OrderStatus.COMPLETED):
            raise ValidationError({"kind": [_("Goods come back only from shipped or completed "
                                              "orders; record a refund instead.")]})
        if when < order.ordered_at:
            raise ValidationError({"at": [_("The return cannot come before the order.")]})
        returned, returned_cny = queries.returned_amounts(order.pk)
        remaining = order.total - returned
        if value > remaining:
            raise ValidationError({"amount": [
                _("At most %(amount)s %(currency)s remain to return on this order.") % {
                    "amount": remaining, "currency": order.currency}]})
        if value == remaining:
            amount_cny = order.total_cny - returned_cny
        else:
            amount_cny = money(value * order.total_cny / order.total)
        ret = OrderReturn(order=order, kind=kind, amount=value, amount_cny=amount_cny,
                          reason=reason, at=when, external_id=external_id)
        ret.save()
        audit.record(actor, ret, "create", {}, audit.snapshot(ret, RETURN_FIELDS),
                     customer_id=order.customer_id)
        if value == remaining and order.payment_status in (PaymentStatus.PAID,
                                                           PaymentStatus.PARTIAL):
            Order.objects.filter(pk=order.pk).update(payment_status=PaymentStatus.REFUNDED,
                                                     version=F("version") + 1)
            audit.record(actor, order, "update", changes={
                "payment_status": [order.payment_status, PaymentStatus.REFUNDED]},
                customer_id=order.customer_id)
        emit("sales.return_created", return_id=ret.pk, order_id=order.pk,
             customer_id=order.customer_id, amount_cny=str(amount_cny),
             actor_id=actor.user.pk)
    return ret


# Bulk import: API batches -----------------------------------------------------------------

@contextlib.contextmanager
def _bulk_gc() -> Iterator[None]:
    """An import allocates millions of short-lived containers; Python's cycle collector,
    run every 2,000 of them, then costs about a quarter of the time while finding nothing to
    free. Collect less often for the duration."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 200_000), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@dataclass
class ImportResult:
    """What an import did: orders created and skipped (already on file), and the orders
    refused with their errors (``index`` in the request, field → messages)."""

    created: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


def _write_batch(actor: Actor, batch: list[_Priced], *, seen: set | None = None,
                 job_id: int | None = None, batch_no: int | None = None,
                 lines_done: int = 0, skipped_before: int = 0
                 ) -> tuple[list[tuple[_Priced, Order]], list[_Priced]]:
    """Write one batch in one transaction: orders whose (source, external id) is new, their
    lines, an audit record per order, and for a job its ``ImportBatch`` row and progress.
    Returns (created, skipped). Losing a race for a number or an external id to another
    writer rolls the batch back and tries again. ``skipped_before``: orders of the batch
    already found on file before pricing (counted in the job's batch row)."""
    seen = seen if seen is not None else set()
    for attempt in range(5):
        try:
            with transaction.atomic():
                if job_id is not None:
                    queries.lock_job(job_id)
                    if batch_no in queries.import_batches_done(job_id):
                        return [], []
                fresh, skipped = _new_in_batch(batch, seen)
                created = _insert(actor, fresh, thorough=attempt > 0)
                if job_id is not None:
                    ImportBatch.objects.create(job_id=job_id, batch_no=batch_no,
                                               created=len(created),
                                               skipped=len(skipped) + skipped_before)
                    JobRun.objects.filter(pk=job_id).update(
                        done=F("done") + lines_done, cursor=str(batch_no),
                        updated_at=timezone.now())
                if created:
                    emit("sales.orders_imported", order_ids=[o.pk for _p, o in created],
                         actor_id=actor.user.pk, job_id=job_id)
            seen.update(p.key for p, _o in created)
            return created, skipped
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _on_file(keys: Iterable[tuple[str, str | None]]) -> set[tuple[str, str]]:
    """The (source, external id) pairs among ``keys`` that are already on file."""
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        if external_id:
            by_source.setdefault(source, []).append(external_id)
    existing: set[tuple[str, str]] = set()
    for source, ids in by_source.items():
        existing |= {(source, e) for e in queries.existing_external_ids(source, ids)}
    return existing


def _new_in_batch(batch: list[_Priced], seen: set) -> tuple[list[_Priced], list[_Priced]]:
    existing = _on_file(p.key for p in batch)
    fresh, skipped, keys = [], [], set(seen)
    for p in batch:
        if p.key in existing or (p.draft.external_id is not None and p.key in keys):
            skipped.append(p)
        else:
            keys.add(p.key)
            fresh.append(p)
    return fresh, skipped


def _insert(actor: Actor, fresh: list[_Priced], *, thorough: bool
            ) -> list[tuple[_Priced, Order]]:
    if not fresh:
        return []
    now = timezone.now()
    numbers = _reserve_numbers(len(fresh), thorough=thorough)
    if connection.vendor == "postgresql":
        ids = _next_ids(Order, len(fresh))
        values = [_order_values(p, pk, n, now) for p, pk, n in zip(fresh, ids, numbers,
                                                                    strict=True)]
        _insert_rows(Order, ORDER_FIELDS, values)
        orders = [Order(*row) for row in values]
    else:
        orders = [Order(*_order_values(p, None, n, now)) for p, n in zip(fresh, numbers,
                                                                         strict=True)]
        Order.objects.bulk_create(orders, batch_size=2000)
    lines: list[tuple] = []
    rows = []
    for p, order in zip(fresh, orders, strict=True):
        pk = order.pk
        lines.extend((pk, *ln[1:]) for ln in p.lines)
        rows.append((order, "create", _created_changes(order, p.lines), order.customer_id))
    _insert_rows(OrderLine, LINE_FIELDS, lines)
    audit.record_many(actor, rows)
    return list(zip(fresh, orders, strict=True))


def orders_import(*, actor: Actor, rows: list[Mapping[str, Any]],
                  batch_size: int = IMPORT_BATCH_SIZE, atomic: bool = False) -> ImportResult:
    """Import orders from an ERP or a shop (the API's ``POST /orders/import``). Each order
    needs ``source``, ``external_id``, ``ordered_at``, a customer (``customer_id``, or a
    ``customer_phone`` / ``customer_email`` on file) and lines as in :func:`order_create`.

    Orders already on file (same source and external id, in this request or before) are
    skipped and counted, never duplicated. Orders with errors are refused and listed
    (``atomic``: any error refuses the whole request with a ValidationError naming
    ``orders.<index>.<field>``). The rest are written ``batch_size`` at a time, each batch in
    its own transaction with an audit record per order; event ``sales.orders_imported``
    per batch."""
    with _bulk_gc():
        return _orders_import(actor, rows, batch_size=batch_size, atomic=atomic)


def _orders_import(actor: Actor, rows: list[Mapping[str, Any]], *, batch_size: int,
                   atomic: bool) -> ImportResult:
    policy.require_model(actor, Order, "add")
    result = ImportResult()
    drafts: list[tuple[int, _Draft]] = []
    failed: dict[int, dict[str, list[str]]] = {}
    for index, raw in enumerate(rows):
        try:
            drafts.append((index, _parse_order(raw if isinstance(raw, Mapping) else {},
                                               imported=True)))
        except ValidationError as exc:
            failed[index] = exc.message_dict
    # Orders already on file are skipped without pricing them (the batch's transaction
    # checks again, so a concurrent writer cannot slip a duplicate in between).
    on_file = _on_file(d.key for _i, d in drafts)
    known = [(i, d) for i, d in drafts if d.key in on_file]
    drafts = [(i, d) for i, d in drafts if d.key not in on_file]
    ctx = _Context(actor)
    ctx.prepare(d for _i, d in drafts)
    priced: list[tuple[int, _Priced]] = []
    for index, d in drafts:
        try:
            p = _price(d, ctx)
        except ValidationError as exc:
            failed[index] = exc.message_dict
            continue
        if not p.may_add:
            failed[index] = {"customer_id": [_("You may not add orders for this customer.")]}
            continue
        priced.append((index, p))
    if failed and atomic:
        raise ValidationError({f"orders.{i}.{k}": v for i, errs in sorted(failed.items())
                               for k, v in errs.items()})
    for index, errs in sorted(failed.items()):
        raw = rows[index] if isinstance(rows[index], Mapping) else {}
        result.errors.append({"index": index, "source": str(raw.get("source") or "")[:30],
                              "external_id": str(raw.get("external_id") or "")[:80],
                              "errors": errs})
    index_of = {id(p): i for i, p in priced}
    seen: set = set()
    outcome: dict[int, dict[str, Any]] = {}
    for start in range(0, len(priced), max(1, batch_size)):
        batch = [p for _i, p in priced[start:start + batch_size]]
        created, skipped = _write_batch(actor, batch, seen=seen)
        for p, order in created:
            outcome[index_of[id(p)]] = {"status": "created", "id": order.pk,
                                        "number": order.number}
        for p in skipped:
            outcome[index_of[id(p)]] = {"status": "skipped"}
        result.created += len(created)
        result.skipped += len(skipped)
    result.skipped += len(known)
    rows_out = [(i, p.draft, outcome[i]) for i, p in priced]
    rows_out += [(i, d, {"status": "skipped"}) for i, d in known]
    for index, d, out in sorted(rows_out, key=lambda r: r[0]):
        result.results.append({"index": index, "source": d.source,
                               "external_id": d.external_id, **out})
    return result


# Bulk import: CSV files, as a resumable job ------------------------------------------------

CSV_ORDER_COLUMNS = ("source", "external_id", "customer_id", "customer_phone",
                     "customer_email", "ordered_at", "currency", "channel", "status",
                     "payment_status")
CSV_LINE_COLUMNS = ("sku", "description", "quantity", "unit_price", "tax_rate", "unit_cost")
CSV_COLUMNS = CSV_ORDER_COLUMNS + CSV_LINE_COLUMNS
CSV_REQUIRED = ("source", "external_id", "ordered_at", "quantity", "unit_price")
MAX_CSV_BYTES = 200 * 1024 * 1024


class CsvProblem(Exception):
    """A problem with the file as a whole (encoding, header)."""

    def __init__(self, line: int | None, column: str | None, message: str):
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def _error(line: int | None, column: str | None, message: str) -> dict[str, Any]:
    return {"line": line, "column": column, "message": message}


def _encoding(data: bytes) -> str:
    sample = data[: 1 << 20]
    if len(data) > len(sample):
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        try:
            sample.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            raise CsvProblem(1, None, _("The file is neither UTF-8 nor GB18030 text.")) \
                from None


@dataclass
class _CsvOrder:
    first_line: int
    fields: dict[str, str]
    lines: list[tuple[int, dict[str, str]]]


def _csv_records(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number where the record starts, column → text) for each data row. Raises
    CsvProblem for an unreadable file or header."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=_encoding(data), newline="")
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CsvProblem(1, None, _("Cannot read the header: %(e)s") % {"e": exc}) from None
    if not header:
        raise CsvProblem(1, None, _("The file is empty."))
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    unknown = [n for n in names if n not in CSV_COLUMNS]
    if unknown:
        raise CsvProblem(1, unknown[0], _("Unknown column “%(name)s”; the columns are: "
                                          "%(columns)s.") % {"name": unknown[0],
                                                             "columns": ", ".join(CSV_COLUMNS)})
    missing = [n for n in CSV_REQUIRED if n not in names]
    if missing:
        raise CsvProblem(1, missing[0], _("The column “%(name)s” is missing.") % {
            "name": missing[0]})
    if not {"customer_id", "customer_phone", "customer_email"} & set(names):
        raise CsvProblem(1, "customer_id", _("Give a customer_id, customer_phone or "
                                             "customer_email column."))
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CsvProblem(1, dupes[0], _("The column “%(name)s” appears twice.") % {
            "name": dupes[0]})
    width = len(names)
    start = reader.line_num + 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(row) or not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise CsvProblem(line, None, _("This row has %(got)d cells; the header has "
                                               "%(want)d.") % {"got": len(row), "want": width})
            yield line, dict(zip(names, row, strict=True))
    except UnicodeDecodeError:
        raise CsvProblem(start, None, _("This line is not valid text in the file's "
                                        "encoding.")) from None
    except csv.Error as exc:
        raise CsvProblem(start, None, _("Cannot read this line: %(e)s") % {"e": exc}) from None


def _csv_orders(data: bytes, errors: list[dict[str, Any]] | None = None
                ) -> Iterator[_CsvOrder]:
    """Group rows into orders by (source, external id); an order's lines must follow each
    other, and its order-level cells agree (or stay empty) on every line."""
    current: _CsvOrder | None = None
    key: tuple[str, str] | None = None
    seen: dict[tuple[str, str], int] = {}
    for line, row in _csv_records(data):
        row_key = (row.get("source", "").strip(), row.get("external_id", "").strip())
        if current is not None and row_key == key:
            if errors is not None:
                for col in CSV_ORDER_COLUMNS:
                    value = row.get(col, "").strip()
                    if value and value != current.fields.get(col, ""):
                        errors.append(_error(line, col, _(
                            "Differs from line %(first)d, this order's first line.") % {
                                "first": current.first_line}))
            current.lines.append((line, row))
            continue
        if current is not None:
            yield current
        if row_key in seen and row_key[1] and errors is not None:
            errors.append(_error(line, "external_id", _(
                "This order's lines must follow each other; it began at line %(first)d.")
                % {"first": seen[row_key]}))
        seen.setdefault(row_key, line)
        key = row_key
        current = _CsvOrder(first_line=line,
                            fields={c: row.get(c, "").strip() for c in CSV_ORDER_COLUMNS},
                            lines=[(line, row)])
    if current is not None:
        yield current


def _csv_raw(order: _CsvOrder) -> dict[str, Any]:
    raw: dict[str, Any] = dict(order.fields)
    raw["lines"] = [row for _ln, row in order.lines]  # the line's cells; the rest is ignored
    return raw


def _csv_errors(order: _CsvOrder, message_dict: dict[str, list[str]]
                ) -> list[dict[str, Any]]:
    out = []
    for key, messages in message_dict.items():
        line, column = order.first_line, key
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            index = int(parts[1])
            line = order.lines[index][0] if index < len(order.lines) else order.first_line
            column = parts[2]
        elif key == "lines":
            column = None
        out.extend(_error(line, column, m) for m in messages)
    return out


def _csv_validate(actor: Actor, data: bytes) -> tuple[int, int, list[dict[str, Any]],
                                                       _Context]:
    """Read the whole file once: every cell checked, customers, exchange rates and the
    actor's scope looked up in bulk. Returns (orders, lines, errors, context)."""
    errors: list[dict[str, Any]] = []
    n_orders = n_lines = 0
    customer_refs: dict[tuple[str, Any], list[int]] = {}
    product_ids: set[int] = set()
    skus: set[str] = set()
    earliest: dict[str, tuple[dt.date, int]] = {}
    tz = timezone.get_current_timezone()
    now = timezone.now()
    for order in _csv_orders(data, errors):
        n_orders += 1
        n_lines += len(order.lines)
        if len(errors) >= MAX_ERRORS:
            continue
        try:
            d = _parse_order(_csv_raw(order), imported=True, now=now)
        except ValidationError as exc:
            errors.extend(_csv_errors(order, exc.message_dict))
            continue
        ref = (("customer_id", d.customer_id) if d.customer_id is not None else
               ("customer_phone", d.customer_phone) if d.customer_phone else
               ("customer_email", d.customer_email))
        lines = customer_refs.setdefault(ref, [])
        if len(lines) < 5:
            lines.append(order.first_line)
        for ln in d.lines:
            if ln.sku:
                skus.add(ln.sku)
        day = d.ordered_at.astimezone(tz).date()
        if d.currency not in earliest or day < earliest[d.currency][0]:
            earliest[d.currency] = (day, order.first_line)
    ctx = _Context(actor)
    ctx.load(ids={v for k, v in customer_refs if k == "customer_id"},
             phones={v for k, v in customer_refs if k == "customer_phone"},
             emails={v for k, v in customer_refs if k == "customer_email"},
             product_ids=product_ids, skus=skus, currencies=set(earliest))
    for (column, value), lines in customer_refs.items():
        probe = _Draft(source="", external_id="", customer_id=value if column == "customer_id"
                       else None, customer_phone=value if column == "customer_phone" else "",
                       customer_email=value if column == "customer_email" else "",
                       ordered_at=timezone.now(), currency="CNY", channel="", status="",
                       payment_status="", quote_id=None, lines=[])
        customer_id, _blame, reason = ctx.customer_of(probe)
        if customer_id is None:
            errors.extend(_error(line, column, reason) for line in lines)
        elif not ctx.may_add(*ctx.customers[customer_id]):
            errors.extend(_error(line, column, _("You may not add orders for this customer."))
                          for line in lines)
    for currency, (day, line) in earliest.items():
        if ctx.rates.rate(currency, day) is None:
            errors.append(_error(line, "currency", _(
                "No exchange rate for %(currency)s on or before %(date)s: add one under "
                "Settings.") % {"currency": currency, "date": day.isoformat()}))
    errors.sort(key=lambda e: (e["line"] or 0, e["column"] or ""))
    return n_orders, n_lines, errors[:MAX_ERRORS], ctx


def order_import_job_create(*, actor: Actor, content: bytes, filename: str = "",
                            batch_size: int = IMPORT_BATCH_SIZE, enqueue: bool = True
                            ) -> JobRun:
    """Accept a CSV file of orders (columns: docs/orders.md) and queue its import. The file
    travels compressed in the job row, so any worker on any host can run or resume it.
    Action ``add`` on orders. The task is enqueued when the transaction commits."""
    policy.require_model(actor, Order, "add")
    if not content:
        raise ValidationError({"file": [_("The file is empty.")]})
    if len(content) > MAX_CSV_BYTES:
        raise ValidationError({"file": [_("The file is larger than %(mb)d MB; split it.") % {
            "mb": MAX_CSV_BYTES // (1024 * 1024)}]})
    params = {
        "filename": str(filename or "").strip()[:200],
        "sha256": hashlib.sha256(content).hexdigest(), "size": len(content),
        "batch_size": max(1, min(int(batch_size), 20000)),
        "data": base64.b64encode(zlib.compress(content, 1)).decode("ascii"),
        "phase": "queued",
    }
    with transaction.atomic():
        job = JobRun.objects.create(kind=queries.IMPORT_JOB_KIND, actor=actor.user,
                                    params=params, status=JobRun.Status.QUEUED)
        if enqueue:
            _enqueue(job.pk, actor.user.pk)
    return job


def _enqueue(job_id: int, actor_id: int) -> None:
    from guanxi.sales.tasks import import_orders_csv

    transaction.on_commit(lambda: import_orders_csv.enqueue(job_id=job_id, actor_id=actor_id))


def _job_update(job_id: int, **values: Any) -> None:
    JobRun.objects.filter(pk=job_id).update(updated_at=timezone.now(), **values)


def order_import_job_run(*, actor: Actor, job_id: int) -> dict[str, Any]:
    """Run (or resume) a CSV import job: validate the whole file, then write it in batches,
    each its own transaction with its ``ImportBatch`` row; batches already committed are
    passed over. A file with errors writes nothing and the job lists them (line, column,
    message). Any other failure marks the job failed and re-raises; running the job again
    continues at the first batch not yet committed. Returns the job's counts."""
    with _bulk_gc():
        return _import_job_run(actor, job_id)


def _import_job_run(actor: Actor, job_id: int) -> dict[str, Any]:
    job = queries.import_job_for_run(actor=actor, job_id=job_id)
    if job.status == JobRun.Status.DONE:
        return {"status": job.status, "done": job.done, "total": job.total}
    params = dict(job.params or {})
    try:
        data = zlib.decompress(base64.b64decode(params["data"]))
    except (KeyError, TypeError, ValueError, zlib.error):
        _job_update(job_id, status=JobRun.Status.FAILED, error=json.dumps(
            [_error(None, None, _("The uploaded file is no longer available."))]))
        raise ValidationError({"file": [_("The uploaded file is no longer available.")]}) \
            from None
    _job_update(job_id, status=JobRun.Status.RUNNING, error="")
    try:
        try:
            n_orders, n_lines, errors, ctx = _csv_validate(actor, data)
        except CsvProblem as exc:
            n_orders = n_lines = 0
            errors, ctx = [_error(exc.line, exc.column, exc.message)], None
        if errors:
            params["phase"] = "invalid"
            _job_update(job_id, status=JobRun.Status.FAILED, total=n_lines, params=params,
                        error=json.dumps(errors, ensure_ascii=False))
            return {"status": JobRun.Status.FAILED, "errors": errors}
        params.update(phase="write", orders=n_orders)
        _job_update(job_id, total=n_lines, params=params)
        _csv_write(actor, job_id, data, ctx, batch_size=int(params.get("batch_size") or
                                                            IMPORT_BATCH_SIZE))
    except Exception as exc:
        _job_update(job_id, status=JobRun.Status.FAILED, error=json.dumps(
            [_error(getattr(exc, "line", None), None, _("The import stopped: %(e)s. Resume "
                                                         "it to continue with the next "
                                                         "batch.") % {"e": exc})],
            ensure_ascii=False))
        raise
    params.pop("data", None)
    params["phase"] = "done"
    _job_update(job_id, status=JobRun.Status.DONE, params=params, done=n_lines, error="")
    return {"status": JobRun.Status.DONE, "done": n_lines, "total": n_lines}


class _BatchFailed(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def _csv_batches(data: bytes, batch_size: int) -> Iterator[tuple[int, list[_CsvOrder]]]:
    """(batch number, orders) in file order: the same batches on every run of a job."""
    batch: list[_CsvOrder] = []
    batch_no = 0
    for order in _csv_orders(data):
        batch.append(order)
        if len(batch) >= batch_size:
            yield batch_no, batch
            batch, batch_no = [], batch_no + 1
    if batch:
        yield batch_no, batch


def _price_csv(orders: list[_CsvOrder], ctx: _Context, now: dt.datetime) -> list[_Priced]:
    """Parse and price a batch read from a file that passed validation (no queries: the
    context was loaded by the validation pass)."""
    priced = []
    for order in orders:
        try:
            p = _price(_parse_order(_csv_raw(order), imported=True, now=now), ctx)
        except ValidationError as exc:
            first = _csv_errors(order, exc.message_dict)[0]
            raise _BatchFailed(first["line"], f"line {first['line']}, {first['column']}: "
                                              f"{first['message']}") from None
        if not p.may_add:
            raise _BatchFailed(order.first_line, _(
                "line %(line)d: you may not add orders for this customer.") % {
                "line": order.first_line})
        priced.append(p)
    return priced


def _csv_write(actor: Actor, job_id: int, data: bytes, ctx: _Context, *,
               batch_size: int) -> None:
    """Write the batches not yet committed. While one batch is being written (much of that
    time the database works and Python waits), a helper thread parses and prices the next;
    it reads only what the validation pass loaded and never touches the database."""
    done = queries.import_batches_done(job_id)
    now = timezone.now()
    pending: tuple[int, Future, int, int] | None = None

    def write(batch_no: int, future: Future, lines: int, skipped: int) -> None:
        _write_batch(actor, future.result(), job_id=job_id, batch_no=batch_no,
                     lines_done=lines, skipped_before=skipped)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-import") as pool:
        for batch_no, orders in _csv_batches(data, batch_size):
            if batch_no in done:
                continue
            on_file = _on_file((o.fields["source"], o.fields["external_id"]) for o in orders)
            fresh = [o for o in orders
                     if (o.fields["source"], o.fields["external_id"]) not in on_file]
            future = pool.submit(_price_csv, fresh, ctx, now)
            if pending is not None:
                write(*pending)
            pending = (batch_no, future, sum(len(o.lines) for o in orders),
                       len(orders) - len(fresh))
        if pending is not None:
            write(*pending)


def order_import_job_resume(*, actor: Actor, job_id: int) -> JobRun:
    """Queue a stopped import again (failed while writing, or running without progress for
    ten minutes: its worker died). It continues at the first batch not yet committed."""
    progress = queries.import_job_get(actor=actor, job_id=job_id)
    job = progress.job
    if not progress.resumable:
        raise ValidationError({"job": [_("This import cannot be resumed.")]})
    with transaction.atomic():
        _job_update(job.pk, status=JobRun.Status.QUEUED)
        _enqueue(job.pk, actor.user.pk)
    job.status = JobRun.Status.QUEUED
    return job


def import_settings() -> dict[str, Any]:
    """What the import page tells users about the file."""
    return {"columns": CSV_COLUMNS, "required": CSV_REQUIRED,
            "max_mb": MAX_CSV_BYTES // (1024 * 1024)}
