"""Quote pages: the list (filters, keyset pages), the editor (lines added and removed with
htmx partials, prices filled from the price list and totals recomputed on the server), the
detail with the workflow buttons the actor may use, the PDF.

Thin: the editor's partial only prices lines from reference data and adds them up with the
services' pure arithmetic; every write goes through ``sales/services/quotes.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import queries as core_queries
from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import Conflict, NotFound, ValidationError
from guanxi.core.web import page, web_actor
from guanxi.customers import queries as customer_queries
from guanxi.sales import pdf
from guanxi.sales.models import Quote, QuoteStatus
from guanxi.sales.queries import products as product_queries
from guanxi.sales.queries import quotes as queries
from guanxi.sales.services import quotes as services

LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount", "tax_rate",
               "priced")
STATUS_COLORS = {"draft": "secondary", "pending": "yellow", "approved": "green",
                 "rejected": "red", "sent": "blue", "accepted": "teal", "ordered": "purple"}
_KEY = re.compile(r"^[0-9a-f]{8}$")
_LINE_ERROR = re.compile(r"^lines\.(\d+)\.(\w+)$")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 16 else None


def _plain(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# The line editor --------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the editor as the user typed it (strings); ``discount`` in percent."""

    key: str
    product: str = ""
    description: str = ""
    quantity: str = "1"
    unit_price: str = ""
    discount: str = ""
    tax_rate: str = ""
    priced: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    net: Decimal | None = None
    tax: Decimal | None = None

    @property
    def tax_pct(self) -> str:
        rate = _decimal(self.tax_rate)
        return f"{_plain(rate * 100)}%" if rate is not None else "—"

    @property
    def blank(self) -> bool:
        return not (self.product or self.description.strip() or self.unit_price.strip())


def _new_row() -> Row:
    return Row(key=secrets.token_hex(4))


def rows_from_post(data: QueryDict) -> list[Row]:
    keys = list(dict.fromkeys(k for k in data.getlist("line") if _KEY.match(k)))
    return [Row(key=k, **{f: data.get(f"line-{k}-{f}", "")[:300].strip()
                          for f in LINE_FIELDS}) for k in keys[:services.MAX_LINES]]


def rows_from_lines(lines) -> list[Row]:
    return [Row(key=secrets.token_hex(4), product=str(ln.product_id or ""),
                description=ln.description, quantity=_plain(ln.quantity),
                unit_price=str(ln.unit_price),
                discount=_plain(ln.discount * 100) if ln.discount else "",
                tax_rate=_plain(ln.tax_rate), priced=str(ln.product_id or ""))
            for ln in lines]


def reprice(actor: Actor, rows: list[Row], *, price_list_id: int | None, currency: str,
            everything: bool = False) -> None:
    """Fill the price (and, for a newly chosen product, the description) of the rows whose
    product changed, or of every product row when the price list changed; a product row
    always shows the product's VAT rate."""
    ids = {int(r.product) for r in rows if r.product.isdigit() and len(r.product) < 16}
    products = product_queries.products_by_id(actor=actor, ids=ids)
    prices = product_queries.list_prices(price_list_id=price_list_id, product_ids=ids)
    for r in rows:
        if not r.product:
            r.priced = ""
            continue
        product = products.get(int(r.product)) if r.product.isdigit() else None
        if product is None or not product.active:
            r.errors["product"] = [_("No such active product.")]
            continue
        r.tax_rate = _plain(product.tax_rate.rate)
        if not everything and r.product == r.priced:
            continue
        if r.product != r.priced or not r.description:
            r.description = product.name
        try:
            r.unit_price = str(services.default_unit_price(
                product, list_price=prices.get(product.pk), currency=currency))
        except ValidationError as exc:
            r.unit_price = ""
            r.errors["unit_price"] = [m for msgs in exc.message_dict.values() for m in msgs]
        r.priced = r.product


def _fraction(percent: str) -> Decimal | str:
    text = percent.strip().rstrip("%").strip()
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return value / 100 if value.is_finite() else text


def service_lines(rows: list[Row]) -> tuple[list[dict], list[str]]:
    """The non-blank rows as the service's line dicts, and the row key of each."""
    lines, keys = [], []
    for r in rows:
        if r.blank:
            continue
        lines.append({"product": r.product or None, "description": r.description,
                      "quantity": r.quantity or None, "unit_price": r.unit_price or None,
                      "discount": _fraction(r.discount), "tax_rate": r.tax_rate or None})
        keys.append(r.key)
    return lines, keys


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and abs(value) < services.AMOUNT_LIMIT else None


def preview(rows: list[Row]) -> services.Totals:
    """Each row's net and VAT, and the totals of the rows that read as numbers."""
    parts = []
    for r in rows:
        if r.blank:
            continue
        qty, price, rate = _decimal(r.quantity or "1"), _decimal(r.unit_price), _decimal(
            r.tax_rate or "")
        disc = _fraction(r.discount)
        if None in (qty, price, rate) or not isinstance(disc, Decimal) or not 0 <= disc <= 1:
            continue
        a = services.line_amounts(qty, price, disc, rate)
        r.net, r.tax = a.net, a.tax
        parts.append((qty, price, disc, rate))
    return services.quote_totals(parts)


def attach_errors(rows: list[Row], keys: list[str], exc: ValidationError
                  ) -> dict[str, list[str]]:
    """Put ``lines.<i>.<field>`` errors on their rows; return the others."""
    by_key = {r.key: r for r in rows}
    other: dict[str, list[str]] = {}
    for name, msgs in exc.message_dict.items():
        m = _LINE_ERROR.match(name)
        if m and int(m.group(1)) < len(keys):
            by_key[keys[int(m.group(1))]].errors.setdefault(m.group(2), []).extend(msgs)
        else:
            other.setdefault(name, []).extend(msgs)
    return other


def _editor_context(actor: Actor, rows: list[Row], *, currency: str,
                    price_list_id: int | None) -> dict:
    totals = preview(rows)
    threshold = services.approval_threshold()
    return {"rows": rows, "totals": totals, "currency": currency,
            "price_list_id": price_list_id or "",
            "products": product_queries.product_choices(actor=actor),
            "tax_rates": [(_plain(t.rate), t.name)
                          for t in product_queries.tax_rate_list(actor=actor)],
            "needs_approval": totals.max_discount > threshold,
            "threshold_pct": _plain(threshold * 100)}


def _error_list(errors: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    labels = {"customer": _("Customer"), "price_list": _("Price list"),
              "opportunity": _("Opportunity"), "valid_until": _("Valid until"),
              "notes": _("Notes"), "lines": _("Lines"), "status": _("Status"),
              "__all__": ""}
    return [(labels.get(name, name), msgs) for name, msgs in errors.items()]


def _currency_of(actor: Actor, price_list_id: int | None) -> str:
    if not price_list_id:
        return "CNY"
    try:
        return product_queries.price_list_get(actor=actor, price_list_id=price_list_id).currency
    except NotFound:
        return "CNY"


@page
@require_POST
def quote_lines(request: HttpRequest) -> HttpResponse:
    """The editor's partial: add (``op=add``) or remove (``op=remove:<key>``) a line, price
    a newly chosen product (or every line, ``op=reprice``, after the price list changed)
    and recompute the totals. Reads reference data only; writes nothing."""
    actor = web_actor(request)
    price_list_id = _int(request.POST.get("price_list"))
    currency = _currency_of(actor, price_list_id)
    rows = rows_from_post(request.POST)
    op = request.POST.get("op", "")
    if op == "add" and len(rows) < services.MAX_LINES:
        rows.append(_new_row())
    elif op.startswith("remove:"):
        rows = [r for r in rows if r.key != op.removeprefix("remove:")]
    reprice(actor, rows, price_list_id=price_list_id, currency=currency,
            everything=op == "reprice")
    if not rows:
        rows.append(_new_row())
    return render(request, "sales/quotes/_editor.html",
                  _editor_context(actor, rows, currency=currency, price_list_id=price_list_id))


# The list ---------------------------------------------------------------------------------

def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(request: HttpRequest) -> queries.QuoteFilters:
    g = request.GET
    status = g.get("status", "")
    return queries.QuoteFilters(
        q=g.get("q", "")[:100], status=status if status in QuoteStatus.values else "",
        customer=_int(g.get("customer")), owner=_int(g.get("owner")),
        issued_from=_date(g.get("issued_from")), issued_to=_date(g.get("issued_to")),
        awaiting_my_approval=g.get("mine_to_approve") == "1")


@page
def quote_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    sort = request.GET.get("sort", "-id")
    if sort not in queries.SORTS:
        sort = "-id"
    try:
        p = queries.quote_list(actor=actor, filters=_filters(request), sort=sort,
                               cursor=request.GET.get("cursor"))
        error = None
    except ValidationError as exc:
        p, error = None, "; ".join(" ".join(v) for v in exc.message_dict.values())
    for q in p.items if p else []:
        q.status_color = STATUS_COLORS.get(q.status, "secondary")
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    next_url = "?" + urlencode({**params, "cursor": p.next_cursor}) if p and p.next_cursor \
        else None
    ctx = {"page": p, "error": error, "params": params, "query_string": urlencode(params),
           "next_url": next_url, "sort": sort, "is_first": not request.GET.get("cursor"),
           "statuses": QuoteStatus.choices, "can_add": policy.can(actor, Quote, "add"),
           "can_approve": policy.can(actor, Quote, "approve"),
           "owners": core_queries.owner_choices(actor=actor)}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "rows":
        return render(request, "sales/quotes/_rows.html", ctx)
    return render(request, "sales/quotes/list.html", ctx)


# Create and edit --------------------------------------------------------------------------

def _valid_until(raw: str, errors: dict[str, list[str]]) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    value = _date(raw)
    if value is None:
        errors["valid_until"] = [_("Enter a date as YYYY-MM-DD.")]
    return value


@page
def quote_create(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    policy.require_model(actor, Quote, "add")
    source = request.POST if request.method == "POST" else request.GET
    customer = None
    customer_id = _int(source.get("customer"))
    if customer_id:
        try:
            customer = customer_queries.customer_get(actor=actor, customer_id=customer_id)
        except NotFound:
            customer = None
    opportunity_id = _int(source.get("opportunity"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        price_list_id = _int(request.POST.get("price_list"))
        rows = rows_from_post(request.POST)
        reprice(actor, rows, price_list_id=price_list_id,
                currency=_currency_of(actor, price_list_id))
        notes = request.POST.get("notes", "")[:10000]
        valid_until = _valid_until(request.POST.get("valid_until", ""), errors)
        lines, keys = service_lines(rows)
        if not errors:
            try:
                q = services.quote_create(
                    actor=actor, customer_id=customer.pk if customer else 0,
                    price_list_id=price_list_id, opportunity_id=opportunity_id,
                    valid_until=valid_until, notes=notes, lines=lines)
            except ValidationError as exc:
                errors = attach_errors(rows, keys, exc)
            else:
                messages.success(request, _("Quote %(number)s created.") % {"number": q.number})
                return redirect("quote_detail", quote_id=q.pk)
    else:
        suggestion = (product_queries.price_list_suggestion(relation_kind=customer.relation_kind)
                      if customer else None)
        price_list_id = suggestion.pk if suggestion else None
        rows, notes = [_new_row()], ""
        valid_until = timezone.localdate() + dt.timedelta(days=services.validity_days())
    currency = _currency_of(actor, price_list_id)
    ctx = {"creating": True, "customer": customer, "error_list": _error_list(errors),
           "notes": notes,
           "valid_until": valid_until.isoformat() if isinstance(valid_until, dt.date) else
           request.POST.get("valid_until", ""),
           "price_lists": product_queries.price_list_list(actor=actor, active_only=True),
           "opportunities": (queries.opportunity_choices(actor=actor, customer_id=customer.pk)
                             if customer else []),
           "opportunity_id": opportunity_id,
           **_editor_context(actor, rows, currency=currency, price_list_id=price_list_id)}
    return render(request, "sales/quotes/form.html", ctx)


@page
def quote_edit(request: HttpRequest, quote_id: int) -> HttpResponse:
    actor = web_actor(request)
    quote = queries.quote_get(actor=actor, quote_id=quote_id)
    policy.require(actor, "change", quote)
    if quote.status in services.LOCKED:
        messages.error(request, _("A quote that is %(status)s cannot change.") % {
            "status": quote.get_status_display()})
        return redirect("quote_detail", quote_id=quote.pk)
    errors: dict[str, list[str]] = {}
    conflict = None
    if request.method == "POST":
        rows = rows_from_post(request.POST)
        reprice(actor, rows, price_list_id=quote.price_list_id, currency=quote.currency)
        notes = request.POST.get("notes", "")[:10000]
        version = _int(request.POST.get("version")) or 0
        raw_valid = request.POST.get("valid_until", "")
        valid_until = _valid_until(raw_valid, errors)
        lines, keys = service_lines(rows)
        if not errors:
            try:
                services.quote_update(actor=actor, quote_id=quote.pk, version=version,
                                      changes={"valid_until": valid_until, "notes": notes},
                                      lines=lines)
            except Conflict as exc:
                conflict = exc.current_version
                version = exc.current_version or version
            except ValidationError as exc:
                errors = attach_errors(rows, keys, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("quote_detail", quote_id=quote.pk)
        valid_text = raw_valid
    else:
        rows = rows_from_lines(quote.lines.all()) or [_new_row()]
        notes, version = quote.notes, quote.version
        valid_text = quote.valid_until.isoformat() if quote.valid_until else ""
    ctx = {"creating": False, "quote": quote, "customer": quote.customer,
           "error_list": _error_list(errors),
           "notes": notes, "valid_until": valid_text, "version": version, "conflict": conflict,
           **_editor_context(actor, rows, currency=quote.currency,
                             price_list_id=quote.price_list_id)}
    return render(request, "sales/quotes/form.html", ctx)


# Detail, workflow, PDF --------------------------------------------------------------------

def _order_url(order_id: int) -> str | None:
    try:
        return reverse("order_detail", args=[order_id])
    except NoReverseMatch:
        return None


@page
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    actor = web_actor(request)
    quote = queries.quote_get(actor=actor, quote_id=quote_id)
    lines = list(quote.lines.all())
    for ln in lines:
        a = services.line_amounts(ln.quantity, ln.unit_price, ln.discount, ln.tax_rate)
        ln.net, ln.tax = a.net, a.tax
        ln.discount_pct = f"{_plain(ln.discount * 100)}%" if ln.discount else "—"
        ln.tax_pct, ln.quantity_text = f"{_plain(ln.tax_rate * 100)}%", _plain(ln.quantity)
    status = quote.status
    can_change = policy.allows(actor, "change", quote)
    may_approve = policy.allows(actor, "approve", quote) and quote.owner_id != actor.user.pk
    orders = [{"order": o, "url": _order_url(o.pk)}
              for o in queries.quote_orders(actor=actor, quote=quote)]
    threshold = services.approval_threshold()
    ctx = {
        "q": quote, "lines": lines, "orders": orders,
        "status_color": STATUS_COLORS.get(status, "secondary"),
        "can_edit": can_change and status not in services.LOCKED,
        "can_submit": can_change and status == QuoteStatus.DRAFT and bool(lines),
        "can_approve": may_approve and status == QuoteStatus.PENDING,
        "can_send": can_change and status == QuoteStatus.APPROVED,
        "can_accept": can_change and status in (QuoteStatus.APPROVED, QuoteStatus.SENT),
        "can_order": can_change and status in services.ORDERABLE,
        "own_pending": status == QuoteStatus.PENDING and quote.owner_id == actor.user.pk,
        "needs_approval": quote.max_discount > threshold,
        "threshold_pct": _plain(threshold * 100),
        "max_discount_pct": _plain(quote.max_discount * 100),
        "languages": settings.LANGUAGES,
    }
    return render(request, "sales/quotes/detail.html", ctx)


ACTIONS = {"submit": services.quote_submit, "approve": services.quote_approve,
           "reject": services.quote_reject, "send": services.quote_mark_sent,
           "accept": services.quote_accept, "order": services.quote_to_order}


def _action_message(action: str) -> str:
    return {
        "submit": _("Quote submitted."), "approve": _("Quote approved."),
        "reject": _("Quote rejected."), "send": _("Quote marked as sent."),
        "accept": _("Acceptance recorded."), "order": _("Order created."),
    }[action]


@page
@require_POST
def quote_action(request: HttpRequest, quote_id: int, action: str) -> HttpResponse:
    """A workflow step (submit, approve, reject, send, accept, order) with the version the
    page showed."""
    if action not in ACTIONS:
        raise NotFound("no such action")
    actor = web_actor(request)
    service = ACTIONS[action]
    kwargs = {"actor": actor, "quote_id": quote_id,
              "version": _int(request.POST.get("version")) or 0}
    if action == "reject":
        kwargs["reason"] = request.POST.get("reason", "")[:500]
    try:
        result = service(**kwargs)
    except Conflict:
        messages.error(request, _("Someone else changed this quote meanwhile: look again and "
                                  "retry."))
    except ValidationError as exc:
        messages.error(request, " ".join(m for msgs in exc.message_dict.values()
                                         for m in msgs))
    else:
        messages.success(request, _action_message(action))
        if action == "order":
            url = _order_url(result.pk)
            if url:
                return redirect(url)
    return redirect("quote_detail", quote_id=quote_id)


@page
def quote_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The quote as PDF, in the interface language or the one named by ``?lang=``."""
    actor = web_actor(request)
    quote = queries.quote_get(actor=actor, quote_id=quote_id)
    lang = request.GET.get("lang", "")
    if lang not in dict(settings.LANGUAGES):
        lang = translation.get_language() or settings.LANGUAGE_CODE
    try:
        with translation.override(lang):
            body = pdf.render_quote(quote, list(quote.lines.all()))
    except pdf.PdfFontMissing as exc:
        messages.error(request, str(exc))
        return redirect("quote_detail", quote_id=quote.pk)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}.pdf"'
    return response


urlpatterns = [
    path("quotes/", quote_list, name="quote_list"),
    path("quotes/new/", quote_create, name="quote_create"),
    path("quotes/lines/", quote_lines, name="quote_lines"),
    path("quotes/<int:quote_id>/", quote_detail, name="quote_detail"),
    path("quotes/<int:quote_id>/edit/", quote_edit, name="quote_edit"),
    path("quotes/<int:quote_id>/pdf/", quote_pdf, name="quote_pdf"),
    path("quotes/<int:quote_id>/do/<slug:action>/", quote_action, name="quote_action"),
]
