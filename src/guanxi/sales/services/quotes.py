"""Quotes (报价单): create and edit with lines, discounts and tax; the approval workflow; the
way to an order.

Arithmetic (Decimal, rounded to cents half up by ``money``), per line::

    gross    = money(quantity × unit price)
    net      = money(quantity × unit price × (1 − discount))
    discount = gross − net
    tax      = money(net × tax rate)

and per quote ``subtotal = Σ gross``, ``discount_total = Σ discount``, ``tax_total = Σ tax``,
``total = subtotal − discount_total + tax_total`` (= Σ (net + tax)). The totals and the largest
line discount are stored on the quote.

Workflow::

    draft ──submit──▶ approved                      (largest discount ≤ threshold)
    draft ──submit──▶ pending ──approve──▶ approved (above it: a manager approves)
                      pending ──reject───▶ rejected
    approved ──mark sent──▶ sent ──accept──▶ accepted
    approved | sent | accepted ──to order──▶ ordered (an Order is created)

Editing a pending, approved or rejected quote sends it back to draft (a rejection's reason,
kept on the quote while it is rejected, is then cleared); a sent, accepted or ordered quote
no longer changes. ``submit``, edits, ``mark sent``, ``accept`` and ``to order``
need ``change`` on the quote; ``approve`` and ``reject`` need ``approve`` (managers within
their team, administrators everywhere), and nobody approves their own discount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.access import Actor, policy
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.services import assign, save_versioned, validate
from guanxi.sales.models import Product, Quote, QuoteLine, QuoteStatus
from guanxi.sales.queries import products as product_queries
from guanxi.sales.queries import quotes as queries
from guanxi.sales.services.common import money, next_number, to_cny

MAX_LINES = 200
#: No line amount (quantity × price) may reach this: the money columns hold 16 digits.
AMOUNT_LIMIT = Decimal("1e15")
LINE_KEYS = {"product", "description", "quantity", "unit_price", "discount", "tax_rate"}
EDITABLE = {"valid_until", "notes"}
AUDIT_QUOTE = ["number", "customer", "opportunity", "price_list", "status", "currency",
               "issued_on", "valid_until", "subtotal", "discount_total", "tax_total", "total",
               "max_discount", "notes", "rejection_reason", "approved_by", "owner", "team"]
LOCKED = {QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.ORDERED}
BACK_TO_DRAFT = {QuoteStatus.PENDING, QuoteStatus.APPROVED, QuoteStatus.REJECTED}
ORDERABLE = {QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.ACCEPTED}


def approval_threshold() -> Decimal:
    """The largest line discount (a fraction) a quote may carry without a manager's
    approval: setting ``QUOTE_APPROVAL_DISCOUNT``, 0.15 by default."""
    return Decimal(str(getattr(settings, "QUOTE_APPROVAL_DISCOUNT", "0.15")))


def validity_days() -> int:
    """Days a new quote stays valid unless a date is given: ``QUOTE_VALIDITY_DAYS``, 30."""
    return int(getattr(settings, "QUOTE_VALIDITY_DAYS", 30))


def needs_approval(max_discount: Decimal) -> bool:
    return Decimal(max_discount) > approval_threshold()


# Arithmetic -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    max_discount: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, discount: Decimal,
                 tax_rate: Decimal) -> LineAmounts:
    """One line's amounts, each rounded to cents (see the module docstring)."""
    exact = Decimal(quantity) * Decimal(unit_price)
    gross = money(exact)
    net = money(exact * (1 - Decimal(discount)))
    return LineAmounts(gross=gross, discount=gross - net, net=net,
                       tax=money(net * Decimal(tax_rate)))


def quote_totals(lines: Iterable[tuple[Decimal, Decimal, Decimal, Decimal]]) -> Totals:
    """Totals of (quantity, unit price, discount, tax rate) lines."""
    subtotal = discount = tax = Decimal("0.00")
    largest = Decimal("0")
    for quantity, unit_price, disc, rate in lines:
        a = line_amounts(quantity, unit_price, disc, rate)
        subtotal += a.gross
        discount += a.discount
        tax += a.tax
        largest = max(largest, Decimal(disc))
    return Totals(subtotal=subtotal, discount_total=discount, tax_total=tax,
                  total=subtotal - discount + tax, max_discount=largest)


def _apply_totals(quote: Quote, lines: list[QuoteLine]) -> None:
    t = quote_totals((ln.quantity, ln.unit_price, ln.discount, ln.tax_rate) for ln in lines)
    if t.subtotal >= AMOUNT_LIMIT or t.total >= AMOUNT_LIMIT:
        raise ValidationError({"lines": [_("The quote's total is too large.")]})
    quote.subtotal, quote.discount_total = t.subtotal, t.discount_total
    quote.tax_total, quote.total, quote.max_discount = t.tax_total, t.total, t.max_discount


# Lines ------------------------------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**53 else None


def default_unit_price(product: Product, *, list_price: Decimal | None, currency: str,
                       field: str = "unit_price") -> Decimal:
    """A product's price on a quote in ``currency``: the price list's price, else the
    product's list price (converted to CNY with today's rate when the quote is in CNY)."""
    if list_price is not None:
        return list_price
    if product.currency == currency:
        return product.list_price
    if currency == "CNY":
        return to_cny(product.list_price, product.currency, field=field)
    raise ValidationError({field: [
        _("No %(currency)s price for %(sku)s: give a unit price or add it to the price "
          "list.") % {"currency": currency, "sku": product.sku}]})


def build_lines(*, actor: Actor, lines: list[dict[str, Any]], price_list_id: int | None,
                currency: str) -> list[QuoteLine]:
    """Unsaved, validated quote lines from plain dicts (keys: product, description,
    quantity, unit_price, discount, tax_rate). A product line takes its price from the price
    list (else the product's list price) unless one is given, its description from the
    product unless one is given, and always the product's VAT rate; a free-text line needs a
    description, a unit price and one of the active VAT rates. Errors are keyed
    ``lines.<index>.<field>``."""
    if not isinstance(lines, list):
        raise ValidationError({"lines": [_("Give a list of lines.")]})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": [_("At most %(n)d lines.") % {"n": MAX_LINES}]})
    product_ids = {i for i in (_int(item.get("product")) for item in lines
                               if isinstance(item, dict) and item.get("product") not in (None, ""))
                   if i}
    products = product_queries.products_by_id(actor=actor, ids=product_ids)
    prices = product_queries.list_prices(price_list_id=price_list_id, product_ids=product_ids)
    rates = product_queries.tax_rate_values()
    errors: dict[str, list[str]] = {}
    out: list[QuoteLine] = []
    for i, item in enumerate(lines):
        key = f"lines.{i}"
        if not isinstance(item, dict):
            errors[key] = [_("Give each line as an object.")]
            continue
        for name in sorted(set(item) - LINE_KEYS):
            errors[f"{key}.{name}"] = [_("Unknown field.")]
        product = None
        if item.get("product") not in (None, ""):
            product = products.get(_int(item.get("product")) or 0)
            if product is None or not product.active:
                errors[f"{key}.product"] = [_("No such active product.")]
                continue
        description = str(item.get("description") or "").strip() or (
            product.name if product else "")
        if not description:
            errors[f"{key}.description"] = [_("Describe the line or choose a product.")]
        raw_qty = item.get("quantity")
        quantity = _decimal(1 if raw_qty in (None, "") else raw_qty)
        if quantity is None or quantity <= 0:
            errors[f"{key}.quantity"] = [_("Enter a quantity above zero.")]
        discount = _decimal(item.get("discount") or 0)
        if discount is None or not (0 <= discount <= 1):
            errors[f"{key}.discount"] = [
                _("Enter a discount between 0 and 1: 0.1 takes a tenth off.")]
        unit_price: Decimal | None
        if item.get("unit_price") not in (None, ""):
            unit_price = _decimal(item.get("unit_price"))
            if unit_price is None or unit_price < 0:
                errors[f"{key}.unit_price"] = [_("Enter a price of zero or more.")]
        elif product is not None:
            try:
                unit_price = default_unit_price(product, list_price=prices.get(product.pk),
                                                currency=currency,
                                                field=f"{key}.unit_price")
            except ValidationError as exc:
                for k, msgs in exc.message_dict.items():
                    errors.setdefault(k, []).extend(msgs)
                unit_price = None
        else:
            unit_price = None
            errors[f"{key}.unit_price"] = [_("Give a unit price.")]
        if product is not None:
            tax_rate: Decimal | None = product.tax_rate.rate
        else:
            tax_rate = _decimal(item.get("tax_rate")) if item.get("tax_rate") not in (
                None, "") else None
            if tax_rate is None or tax_rate.normalize() not in rates:
                errors[f"{key}.tax_rate"] = [_("Choose one of the VAT rates.")]
        if any(k.startswith(f"{key}.") or k == key for k in errors):
            continue
        line = QuoteLine(product=product, description=description, quantity=quantity,
                         unit_price=unit_price, discount=discount, tax_rate=tax_rate,
                         position=i)
        try:
            validate(line, exclude=["quote", "product"])
        except ValidationError as exc:
            for name, msgs in exc.message_dict.items():
                errors[f"{key}.{name}"] = msgs
            continue
        if line.quantity * line.unit_price >= AMOUNT_LIMIT:
            errors[f"{key}.quantity"] = [_("The line amount is too large.")]
            continue
        out.append(line)
    if errors:
        raise ValidationError(errors)
    return out


def _line_summary(line: QuoteLine) -> str:
    what = f"#{line.product_id} " if line.product_id else ""
    return (f"{what}{line.description} × {line.quantity.normalize():f} @ {line.unit_price}"
            f" −{(line.discount * 100).normalize():f}% VAT {(line.tax_rate * 100).normalize():f}%")


def _snapshot(quote: Quote, lines: list[QuoteLine]) -> dict[str, Any]:
    data = audit.snapshot(quote, AUDIT_QUOTE)
    data["lines"] = [_line_summary(ln) for ln in lines]
    return data


# Create and edit --------------------------------------------------------------------------

def _check_dates(quote: Quote) -> None:
    if quote.valid_until and quote.issued_on and quote.valid_until < quote.issued_on:
        raise ValidationError({"valid_until": [
            _("The quote cannot expire before it is issued.")]})


def _save_numbered(quote: Quote) -> None:
    """Insert with the next free number; a writer that lost the race for a number retries."""
    for _attempt in range(5):
        quote.number = next_number("QT", Quote)
        try:
            with transaction.atomic():
                quote.save(force_insert=True)
            return
        except IntegrityError:
            if not queries.quote_number_taken(number=quote.number):
                raise
            quote.pk = None
    raise Conflict(_("Could not number the quote; try again."))


def quote_create(*, actor: Actor, customer_id: int, lines: list[dict[str, Any]] | None = None,
                 price_list_id: int | None = None, opportunity_id: int | None = None,
                 valid_until: dt.date | None = None, notes: str = "") -> Quote:
    """Create a draft quote for a customer the actor sees, owned by the actor (and their
    team), optionally from an opportunity of that customer and with a price list (whose
    currency it takes; CNY without one). Action ``add``; audit ``create``; event
    ``sales.quote_created``."""
    from guanxi.customers import queries as customer_queries

    policy.require_model(actor, Quote, "add")
    with transaction.atomic():
        errors: dict[str, list[str]] = {}
        customer = None
        try:
            customer = customer_queries.customer_get(actor=actor, customer_id=customer_id)
        except NotFound:
            errors["customer"] = [_("No such customer.")]
        price_list = None
        if price_list_id:
            try:
                price_list = product_queries.price_list_get(actor=actor,
                                                            price_list_id=price_list_id)
                if not price_list.active:
                    errors["price_list"] = [_("This price list is not in use.")]
            except NotFound:
                errors["price_list"] = [_("No such price list.")]
        opportunity = None
        if opportunity_id:
            try:
                opportunity = queries.opportunity_for_quote(actor=actor,
                                                            opportunity_id=opportunity_id)
                if customer is not None and opportunity.customer_id != customer.pk:
                    errors["opportunity"] = [_("The opportunity belongs to another customer.")]
            except NotFound:
                errors["opportunity"] = [_("No such opportunity.")]
        if errors:
            raise ValidationError(errors)
        today = timezone.localdate()
        quote = Quote(customer=customer, opportunity=opportunity, price_list=price_list,
                      currency=price_list.currency if price_list else "CNY",
                      owner_id=actor.user.pk, team_id=actor.user.team_id,
                      notes=(notes or "").strip(), issued_on=today,
                      valid_until=valid_until or today + dt.timedelta(days=validity_days()))
        _check_dates(quote)
        built = build_lines(actor=actor, lines=lines or [], price_list_id=quote.price_list_id,
                            currency=quote.currency)
        _apply_totals(quote, built)
        validate(quote, exclude=["number", "customer", "opportunity", "price_list", "owner",
                                 "team", "approved_by"])
        if not policy.allows(actor, "add", quote):
            raise PermissionDenied(_("You may not create quotes for that owner or team."))
        _save_numbered(quote)
        for line in built:
            line.quote = quote
        QuoteLine.objects.bulk_create(built)
        audit.record(actor, quote, "create", {}, _snapshot(quote, built),
                     customer_id=quote.customer_id)
        emit("sales.quote_created", quote_id=quote.pk, customer_id=quote.customer_id,
             actor_id=actor.user.pk)
    return quote


def _check_version(actor: Actor, quote: Quote, version: int) -> None:
    if quote.version != version:
        raise Conflict(_("This quote was changed by someone else."),
                       current={**audit.snapshot(quote, AUDIT_QUOTE), "version": quote.version},
                       current_version=quote.version)


def _save_changes(quote: Quote, version: int, fields: Iterable[str]) -> None:
    save_versioned(quote, version, fields, _("This quote was changed by someone else."))


def quote_update(*, actor: Actor, quote_id: int, version: int,
                 changes: dict[str, Any] | None = None,
                 lines: list[dict[str, Any]] | None = None) -> Quote:
    """Change the validity, the notes and (when ``lines`` is given) replace the lines.
    Action ``change``; stale ``version`` → Conflict; a pending, approved or rejected quote
    goes back to draft (its approval no longer holds); a sent, accepted or ordered quote
    cannot change. Audit ``update`` (lines summarised); event ``sales.quote_updated``."""
    changes = dict(changes or {})
    with transaction.atomic():
        quote = queries.quote_for_write(actor=actor, quote_id=quote_id)
        _check_version(actor, quote, version)
        if quote.status in LOCKED:
            raise ValidationError({"status": [_("A quote that is %(status)s cannot change.") % {
                "status": quote.get_status_display()}]})
        old_lines = queries.quote_lines(quote=quote)
        before = _snapshot(quote, old_lines)
        changed = assign(quote, changes, allowed=EDITABLE,
                         writable=policy.writable_fields(actor, Quote, "change"))
        if "notes" in changed:
            quote.notes = (quote.notes or "").strip()
        new_lines = old_lines
        if lines is not None:
            new_lines = build_lines(actor=actor, lines=lines,
                                    price_list_id=quote.price_list_id, currency=quote.currency)
            _apply_totals(quote, new_lines)
        validate(quote, exclude=["number", "customer", "opportunity", "price_list", "owner",
                                 "team", "approved_by"])
        _check_dates(quote)
        if not audit.diff(before, _snapshot(quote, new_lines)):
            return quote
        fields = {"valid_until", "notes", "subtotal", "discount_total", "tax_total", "total",
                  "max_discount"}
        if quote.status in BACK_TO_DRAFT:
            quote.status, quote.approved_by, quote.approved_at = QuoteStatus.DRAFT, None, None
            quote.rejection_reason = ""
            fields |= {"status", "approved_by", "approved_at", "rejection_reason"}
        _save_changes(quote, version, fields)
        if lines is not None:
            QuoteLine.objects.filter(quote_id=quote.pk).delete()
            for line in new_lines:
                line.quote = quote
            QuoteLine.objects.bulk_create(new_lines)
        if not policy.allows(actor, "change", quote):
            raise PermissionDenied(_("After this change the quote would be outside your scope."))
        audit.record(actor, quote, "update", before, _snapshot(quote, new_lines),
                     customer_id=quote.customer_id)
        emit("sales.quote_updated", quote_id=quote.pk, actor_id=actor.user.pk,
             status=quote.status)
    return quote


# Workflow ---------------------------------------------------------------------------------

def _load(actor: Actor, quote_id: int, version: int, action: str,
          allowed: set[str], refusal: str) -> Quote:
    quote = queries.quote_for_write(actor=actor, quote_id=quote_id, action=action)
    _check_version(actor, quote, version)
    if quote.status not in allowed:
        raise ValidationError({"status": [refusal % {"status": quote.get_status_display()}]})
    return quote


def _not_expired(quote: Quote) -> None:
    if quote.valid_until and quote.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": [
            _("The quote expired on %(date)s: extend it first.") % {
                "date": quote.valid_until.isoformat()}]})


def _record(actor: Actor, quote: Quote, old_status: str, **extra: list[Any]) -> None:
    audit.record(actor, quote, "update", changes={"status": [old_status, quote.status],
                                                  **extra},
                 customer_id=quote.customer_id)


def quote_submit(*, actor: Actor, quote_id: int, version: int) -> Quote:
    """Submit a draft. A largest line discount above the threshold makes it pending, and
    ``sales.quote_approval_requested`` (with the approvers' ids) is emitted; otherwise it is
    approved at once (``sales.quote_approved``, automatic). Action ``change``."""
    with transaction.atomic():
        quote = _load(actor, quote_id, version, "change", {QuoteStatus.DRAFT},
                      _("Only a draft can be submitted; this quote is %(status)s."))
        if not queries.quote_lines(quote=quote):
            raise ValidationError({"lines": [_("Add at least one line first.")]})
        _not_expired(quote)
        old = quote.status
        if needs_approval(quote.max_discount):
            quote.status = QuoteStatus.PENDING
            _save_changes(quote, version, ["status"])
            _record(actor, quote, old)
            emit("sales.quote_approval_requested", quote_id=quote.pk,
                 approver_ids=queries.approver_ids(quote=quote), owner_id=quote.owner_id,
                 max_discount=str(quote.max_discount))
        else:
            quote.status, quote.approved_at = QuoteStatus.APPROVED, timezone.now()
            quote.approved_by = None
            _save_changes(quote, version, ["status", "approved_at", "approved_by"])
            _record(actor, quote, old)
            emit("sales.quote_approved", quote_id=quote.pk, approver_id=None, automatic=True)
    return quote


def quote_approve(*, actor: Actor, quote_id: int, version: int) -> Quote:
    """Approve a pending quote's discount. Action ``approve`` on the quote; the quote's
    owner may not approve it (separation of duties). Audit; event ``sales.quote_approved``."""
    with transaction.atomic():
        quote = _load(actor, quote_id, version, "approve", {QuoteStatus.PENDING},
                      _("Only a quote awaiting approval can be approved; this one is "
                        "%(status)s."))
        if quote.owner_id == actor.user.pk:
            raise PermissionDenied(_("You cannot approve your own quote: its discount needs "
                                     "someone else's approval."))
        old = quote.status
        quote.status, quote.approved_by_id = QuoteStatus.APPROVED, actor.user.pk
        quote.approved_at = timezone.now()
        _save_changes(quote, version, ["status", "approved_by", "approved_at"])
        _record(actor, quote, old, approved_by=[None, actor.user.pk])
        emit("sales.quote_approved", quote_id=quote.pk, approver_id=actor.user.pk,
             automatic=False)
    return quote


def quote_reject(*, actor: Actor, quote_id: int, version: int, reason: str = "") -> Quote:
    """Refuse a pending quote's discount, with a reason (stored on the quote as
    ``rejection_reason`` until it goes back to draft). Action ``approve``. The owner edits
    it (back to draft) and submits again. Audit; event ``sales.quote_rejected``."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError({"reason": [_("At most %(n)d characters.") % {"n": 500}]})
    with transaction.atomic():
        quote = _load(actor, quote_id, version, "approve", {QuoteStatus.PENDING},
                      _("Only a quote awaiting approval can be rejected; this one is "
                        "%(status)s."))
        old = quote.status
        old_reason = quote.rejection_reason
        quote.status, quote.rejection_reason = QuoteStatus.REJECTED, reason
        _save_changes(quote, version, ["status", "rejection_reason"])
        _record(actor, quote, old, rejection_reason=[old_reason or None, reason or None])
        emit("sales.quote_rejected", quote_id=quote.pk, approver_id=actor.user.pk,
             owner_id=quote.owner_id, reason=reason)
    return quote


def quote_mark_sent(*, actor: Actor, quote_id: int, version: int) -> Quote:
    """Record that an approved quote went to the customer. Action ``change``."""
    with transaction.atomic():
        quote = _load(actor, quote_id, version, "change", {QuoteStatus.APPROVED},
                      _("Only an approved quote can be sent; this one is %(status)s."))
        _not_expired(quote)
        old = quote.status
        quote.status = QuoteStatus.SENT
        _save_changes(quote, version, ["status"])
        _record(actor, quote, old)
        emit("sales.quote_sent", quote_id=quote.pk)
    return quote


def quote_accept(*, actor: Actor, quote_id: int, version: int) -> Quote:
    """Record the customer's acceptance (before the quote expires). Action ``change``."""
    with transaction.atomic():
        quote = _load(actor, quote_id, version, "change",
                      {QuoteStatus.APPROVED, QuoteStatus.SENT},
                      _("Only an approved or sent quote can be accepted; this one is "
                        "%(status)s."))
        _not_expired(quote)
        old = quote.status
        quote.status = QuoteStatus.ACCEPTED
        _save_changes(quote, version, ["status"])
        _record(actor, quote, old)
        emit("sales.quote_accepted", quote_id=quote.pk, customer_id=quote.customer_id)
    return quote


def order_lines_for(*, actor: Actor, quote: Quote) -> list[dict[str, Any]]:
    """The quote's lines as order lines: unit price after the line discount (to cents),
    the line's VAT rate, the product's SKU and current unit cost."""
    lines = queries.quote_lines(quote=quote)
    products = product_queries.products_by_id(
        actor=actor, ids={ln.product_id for ln in lines if ln.product_id})
    out = []
    for ln in lines:
        product = products.get(ln.product_id) if ln.product_id else None
        out.append({
            "product_id": ln.product_id,
            "sku": product.sku if product else "",
            "description": ln.description,
            "quantity": ln.quantity,
            "unit_price": money(ln.unit_price * (1 - ln.discount)),
            "tax_rate": ln.tax_rate,
            "unit_cost": product.cost if product else None,
        })
    return out


def quote_to_order(*, actor: Actor, quote_id: int, version: int):
    """Turn an approved, sent or accepted quote into a confirmed order (linked to the quote)
    and mark the quote ordered, in one transaction. Action ``change`` on the quote (and the
    order service's own ``add`` check). Audit; event ``sales.quote_ordered``. Returns the
    order."""
    from guanxi.sales.services.orders import order_create

    with transaction.atomic():
        quote = _load(actor, quote_id, version, "change", set(ORDERABLE),
                      _("Only an approved, sent or accepted quote becomes an order; this "
                        "one is %(status)s."))
        if quote.status != QuoteStatus.ACCEPTED:
            _not_expired(quote)
        lines = order_lines_for(actor=actor, quote=quote)
        if not lines:
            raise ValidationError({"lines": [_("The quote has no lines.")]})
        channel = quote.price_list.channel if quote.price_list_id else ""
        order = order_create(actor=actor, customer_id=quote.customer_id, lines=lines,
                             currency=quote.currency, channel=channel, quote_id=quote.pk)
        old = quote.status
        quote.status = QuoteStatus.ORDERED
        _save_changes(quote, version, ["status"])
        _record(actor, quote, old, order=[None, order.number])
        emit("sales.quote_ordered", quote_id=quote.pk, order_id=order.pk,
             customer_id=quote.customer_id)
    return order
