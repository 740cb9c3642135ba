"""Reads of the sales reference data: products and categories, price lists and their items,
tax rates, exchange rates.

Reference data carries no owner: every signed-in, active user may read it (administrators
change it, see ``sales/services/products.py``), so these reads check only that the actor is
signed in and active.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.access import Actor
from guanxi.core.exceptions import NotFound, PermissionDenied, ValidationError
from guanxi.core.pagination import Page, Sort, paginate
from guanxi.sales.models import (
    ExchangeRate,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    TaxRate,
)

SORTS = {
    "sku": Sort("sku", False),
    "-sku": Sort("sku", True),
    "name": Sort("name", False),
    "-name": Sort("name", True),
    "-id": Sort("id", True),
    "id": Sort("id", False),
}


@dataclass
class ProductFilters:
    """The filters of the product list; the page and the API accept the same names."""

    q: str = ""
    category: int | None = None
    product_line: str = ""
    currency: str = ""
    active: bool | None = None


def _require_signed_in(actor: Actor) -> None:
    if not (actor.user.is_authenticated and actor.user.is_active):
        raise PermissionDenied(_("Sign in first."))


def sees_costs(actor: Actor) -> bool:
    """Unit costs (hence margins) are shown to administrators only."""
    role = actor.user.role
    return bool(role and role.is_admin and actor.user.is_active)


def _apply_filters(qs: QuerySet, f: ProductFilters) -> QuerySet:
    term = f.q.strip()
    if term:
        qs = qs.filter(Q(sku__istartswith=term) | Q(name__icontains=term))
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category))
    if f.product_line:
        qs = qs.filter(product_line=f.product_line)
    if f.currency:
        qs = qs.filter(currency=f.currency)
    if f.active is not None:
        qs = qs.filter(active=f.active)
    return qs


def product_list(*, actor: Actor, filters: ProductFilters | None = None, sort: str = "sku",
                 cursor: str | None = None, limit: int | None = None) -> Page[Product]:
    """One page of products, by SKU unless another sort is named (keyset pages)."""
    _require_signed_in(actor)
    if sort not in SORTS:
        raise ValidationError({"sort": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(SORTS)}]})
    limit = max(1, min(limit or settings.LIST_PAGE_SIZE, 200))
    qs = _apply_filters(Product.objects.select_related("category", "tax_rate"),
                        filters or ProductFilters())
    return paginate(qs, SORTS[sort], cursor=cursor, limit=limit,
                    count_limit=settings.LIST_COUNT_LIMIT)


def product_get(*, actor: Actor, product_id: int) -> Product:
    _require_signed_in(actor)
    try:
        return Product.objects.select_related("category", "tax_rate").get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("product not found") from None


def product_for_write(*, product_id: int) -> Product:
    """The row, locked, for a service (which has checked the actor is an administrator)."""
    try:
        return Product.objects.select_for_update().get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("product not found") from None


def product_sku_taken(*, sku: str, exclude_id: int | None = None) -> bool:
    qs = Product.objects.filter(sku__iexact=sku)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def products_by_id(*, actor: Actor, ids: set[int]) -> dict[int, Product]:
    """Products by id (with their tax rate), for pricing quote lines."""
    _require_signed_in(actor)
    clean = {i for i in ids if isinstance(i, int) and 0 < i < 2**53}
    if not clean:
        return {}
    return {p.pk: p for p in Product.objects.select_related("tax_rate").filter(pk__in=clean)}


def product_choices(*, actor: Actor) -> list[Product]:
    """Active products for choice widgets (the quote editor), by SKU."""
    _require_signed_in(actor)
    return list(Product.objects.filter(active=True).select_related("tax_rate")
                .only("id", "sku", "name", "unit", "list_price", "currency", "tax_rate__rate",
                      "tax_rate__name", "tax_rate__code")
                .order_by("sku"))


def product_lines() -> list[str]:
    return list(Product.objects.exclude(product_line="").order_by("product_line")
                .values_list("product_line", flat=True).distinct())


def category_list(*, actor: Actor) -> list[ProductCategory]:
    _require_signed_in(actor)
    return list(ProductCategory.objects.select_related("parent"))


def category_exists(*, category_id: int) -> bool:
    return ProductCategory.objects.filter(pk=category_id).exists()


def category_name_taken(*, name: str) -> bool:
    return ProductCategory.objects.filter(name=name).exists()


def tax_rate_list(*, actor: Actor, active_only: bool = True) -> list[TaxRate]:
    _require_signed_in(actor)
    qs = TaxRate.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def tax_rate_exists(*, tax_rate_id: int) -> bool:
    return TaxRate.objects.filter(pk=tax_rate_id).exists()


def tax_rate_values() -> set[Decimal]:
    """The active VAT rates as fractions (a free-text quote line must use one of them)."""
    return {r.normalize() for r in TaxRate.objects.filter(active=True).values_list(
        "rate", flat=True)}


# Price lists ------------------------------------------------------------------------------

def price_list_list(*, actor: Actor, active_only: bool = False) -> list[PriceList]:
    """Price lists with the number of products each prices."""
    _require_signed_in(actor)
    qs = PriceList.objects.annotate(item_count=Count("items"))
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def price_list_get(*, actor: Actor, price_list_id: int) -> PriceList:
    _require_signed_in(actor)
    try:
        return PriceList.objects.get(pk=price_list_id)
    except (PriceList.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("price list not found") from None


def price_list_for_write(*, price_list_id: int) -> PriceList:
    try:
        return PriceList.objects.select_for_update().get(pk=price_list_id)
    except (PriceList.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("price list not found") from None


def price_list_name_taken(*, name: str, exclude_id: int | None = None) -> bool:
    qs = PriceList.objects.filter(name=name)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def price_list_items(*, actor: Actor, price_list_id: int) -> list[PriceListItem]:
    """The items of a price list, by SKU."""
    _require_signed_in(actor)
    return list(PriceListItem.objects.filter(price_list_id=price_list_id)
                .select_related("product").order_by("product__sku"))


def price_list_has_items(*, price_list_id: int) -> bool:
    return PriceListItem.objects.filter(price_list_id=price_list_id).exists()


def price_list_item_get(*, price_list_id: int, item_id: int) -> PriceListItem:
    try:
        return PriceListItem.objects.select_related("product").get(
            pk=item_id, price_list_id=price_list_id)
    except (PriceListItem.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("price list item not found") from None


def price_list_item_find(*, price_list_id: int, product_id: int) -> PriceListItem | None:
    return (PriceListItem.objects.select_for_update()
            .filter(price_list_id=price_list_id, product_id=product_id).first())


def list_prices(*, price_list_id: int | None, product_ids: set[int]) -> dict[int, Decimal]:
    """The price list's price per product (products it does not price are absent)."""
    if not price_list_id or not product_ids:
        return {}
    return dict(PriceListItem.objects.filter(price_list_id=price_list_id,
                                             product_id__in=product_ids)
                .values_list("product_id", "price"))


def price_list_suggestion(*, relation_kind: str, channel: str = "") -> PriceList | None:
    """The active price list for a customer group (and channel), if exactly one fits."""
    rows = list(PriceList.objects.filter(active=True, relation_kind=relation_kind,
                                         channel=channel)[:2])
    return rows[0] if len(rows) == 1 else None


# Exchange rates ---------------------------------------------------------------------------

def exchange_rate_list(*, actor: Actor, currency: str = "", limit: int = 200
                       ) -> list[ExchangeRate]:
    """Exchange rates, newest first per currency."""
    _require_signed_in(actor)
    qs = ExchangeRate.objects.all()
    if currency:
        qs = qs.filter(currency=currency)
    return list(qs.order_by("currency", "-valid_from")[:limit])


def exchange_rate_current(*, actor: Actor, on: dt.date) -> dict[str, ExchangeRate]:
    """The rate in force on ``on`` for each currency that has one."""
    _require_signed_in(actor)
    out: dict[str, ExchangeRate] = {}
    for rate in ExchangeRate.objects.filter(valid_from__lte=on).order_by("currency",
                                                                         "-valid_from"):
        out.setdefault(rate.currency, rate)
    return out
