"""Writes to the sales reference data: products, categories, price lists and their prices.

Reference data is readable by every signed-in user and changed by administrators only
(``require_admin``). Each write validates with errors keyed by field, writes an audit record
in its transaction and emits its event on commit; products and price lists carry a version
(stale → Conflict). A list's prices are set and removed one product at a time and leave the
list's version alone, as contacts leave their organisation's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.access import Actor
from guanxi.core.events import emit
from guanxi.core.exceptions import Conflict, NotFound, ValidationError
from guanxi.core.queries import require_admin
from guanxi.core.services import assign, save_versioned, validate
from guanxi.sales.models import Currency, PriceList, PriceListItem, Product, ProductCategory
from guanxi.sales.queries import products as queries

PRODUCT_FIELDS = {"sku", "name", "category", "product_line", "unit", "list_price", "cost",
                  "currency", "tax_rate", "active"}
AUDIT_PRODUCT = sorted(PRODUCT_FIELDS)
PRICE_LIST_FIELDS = {"name", "currency", "relation_kind", "channel", "active"}
AUDIT_PRICE_LIST = sorted(PRICE_LIST_FIELDS)
RELATION_KINDS = {"", "consumer", "intermediary", "internal", "public"}


def _clean_product(product: Product) -> None:
    """Normalise and validate; field errors of the model and of these rules together."""
    errors: dict[str, list[str]] = {}
    product.sku = (product.sku or "").strip()
    product.name = (product.name or "").strip()
    product.product_line = (product.product_line or "").strip()
    product.unit = (product.unit or "").strip() or "件"
    if product.sku and not product.sku.isprintable():
        errors["sku"] = [_("Use printable characters only.")]
    if product.list_price is not None and _decimal(product.list_price) < 0:
        errors["list_price"] = [_("The price cannot be negative.")]
    if product.cost is not None and _decimal(product.cost) < 0:
        errors["cost"] = [_("The cost cannot be negative.")]
    if product.category_id and not queries.category_exists(category_id=product.category_id):
        errors["category"] = [_("No such category.")]
    if product.tax_rate_id and not queries.tax_rate_exists(tax_rate_id=product.tax_rate_id):
        errors["tax_rate"] = [_("No such tax rate.")]
    try:
        validate(product)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def product_create(*, actor: Actor, data: dict[str, Any]) -> Product:
    """Add a product (administrators). SKUs are unique, ignoring case. Audit ``create``;
    event ``sales.product_created``."""
    require_admin(actor)
    with transaction.atomic():
        product = Product()
        assign(product, data, allowed=PRODUCT_FIELDS, writable=PRODUCT_FIELDS)
        _clean_product(product)
        if queries.product_sku_taken(sku=product.sku):
            raise ValidationError({"sku": [_("A product with this SKU exists.")]})
        product.save()
        audit.record(actor, product, "create", {}, audit.snapshot(product, AUDIT_PRODUCT))
        emit("sales.product_created", product_id=product.pk, actor_id=actor.user.pk)
    return product


def product_update(*, actor: Actor, product_id: int, version: int,
                   changes: dict[str, Any]) -> Product:
    """Change a product (administrators). Stale ``version`` → Conflict with the current
    values; audit ``update`` with old and new values; event ``sales.product_updated``.
    Quotes already written keep their prices (lines copy them)."""
    require_admin(actor)
    with transaction.atomic():
        product = queries.product_for_write(product_id=product_id)
        before = audit.snapshot(product, AUDIT_PRODUCT)
        if product.version != version:
            raise Conflict(_("This product was changed by someone else."),
                           current={**before, "version": product.version},
                           current_version=product.version)
        changed = assign(product, changes, allowed=PRODUCT_FIELDS, writable=PRODUCT_FIELDS)
        _clean_product(product)
        if "sku" in changed and queries.product_sku_taken(sku=product.sku,
                                                          exclude_id=product.pk):
            raise ValidationError({"sku": [_("A product with this SKU exists.")]})
        if not changed:
            return product
        save_versioned(product, version, changed, _("This product was changed by someone else."))
        audit.record(actor, product, "update", before, audit.snapshot(product, AUDIT_PRODUCT))
        emit("sales.product_updated", product_id=product.pk, actor_id=actor.user.pk,
             fields=sorted(changed))
    return product


def category_create(*, actor: Actor, name: str, parent_id: int | None = None
                    ) -> ProductCategory:
    """Add a product category (administrators). Audit ``create``."""
    require_admin(actor)
    name = (name or "").strip()
    with transaction.atomic():
        category = ProductCategory(name=name, parent_id=parent_id)
        validate(category)
        if parent_id and not queries.category_exists(category_id=parent_id):
            raise ValidationError({"parent": [_("No such category.")]})
        if queries.category_name_taken(name=name):
            raise ValidationError({"name": [_("A category with this name exists.")]})
        category.save()
        audit.record(actor, category, "create", {}, {"name": name, "parent": parent_id})
        emit("sales.category_created", category_id=category.pk)
    return category


# Price lists ------------------------------------------------------------------------------

def _clean_price_list(pl: PriceList) -> None:
    pl.name = (pl.name or "").strip()
    pl.channel = (pl.channel or "").strip()
    pl.relation_kind = (pl.relation_kind or "").strip()
    if pl.relation_kind not in RELATION_KINDS:
        raise ValidationError({"relation_kind": [
            _("Choose one of: %(choices)s, or none.") % {
                "choices": ", ".join(sorted(RELATION_KINDS - {""}))}]})
    if pl.currency not in Currency.values:
        raise ValidationError({"currency": [_("Unknown currency.")]})


def price_list_create(*, actor: Actor, data: dict[str, Any]) -> PriceList:
    """Add a price list for a customer group (relation kind) or a sales channel
    (administrators). Audit ``create``; event ``sales.price_list_created``."""
    require_admin(actor)
    with transaction.atomic():
        pl = PriceList()
        assign(pl, data, allowed=PRICE_LIST_FIELDS, writable=PRICE_LIST_FIELDS)
        _clean_price_list(pl)
        validate(pl)
        if queries.price_list_name_taken(name=pl.name):
            raise ValidationError({"name": [_("A price list with this name exists.")]})
        pl.save()
        audit.record(actor, pl, "create", {}, audit.snapshot(pl, AUDIT_PRICE_LIST))
        emit("sales.price_list_created", price_list_id=pl.pk)
    return pl


def price_list_update(*, actor: Actor, price_list_id: int, version: int,
                      changes: dict[str, Any]) -> PriceList:
    """Rename, regroup or (de)activate a price list (administrators). The currency is
    fixed once the list prices anything. Stale ``version`` → Conflict with the current
    values; audit ``update``; event ``sales.price_list_updated``."""
    require_admin(actor)
    with transaction.atomic():
        pl = queries.price_list_for_write(price_list_id=price_list_id)
        before = audit.snapshot(pl, AUDIT_PRICE_LIST)
        if pl.version != version:
            raise Conflict(_("This price list was changed by someone else."),
                           current={**before, "version": pl.version},
                           current_version=pl.version)
        changed = assign(pl, changes, allowed=PRICE_LIST_FIELDS, writable=PRICE_LIST_FIELDS)
        _clean_price_list(pl)
        validate(pl)
        if "currency" in changed and queries.price_list_has_items(price_list_id=pl.pk):
            raise ValidationError({"currency": [_("The currency cannot change while the list prices products.")]})
        if "name" in changed and queries.price_list_name_taken(name=pl.name,
                                                               exclude_id=pl.pk):
            raise ValidationError({"name": [_("A price list with this name exists.")]})
        if not changed:
            return pl
        save_versioned(pl, version, changed, _("This price list was changed by someone else."))
        audit.record(actor, pl, "update", before, audit.snapshot(pl, AUDIT_PRICE_LIST))
        emit("sales.price_list_updated", price_list_id=pl.pk, fields=sorted(changed))
    return pl


def price_list_item_set(*, actor: Actor, price_list_id: int, product_id: int,
                        price: Decimal) -> PriceListItem:
    """Set a product's price on a price list (adding the product if it is not listed),
    administrators only. Audit ``create`` or ``update``; event ``sales.price_list_updated``."""
    require_admin(actor)
    try:
        price = Decimal(str(price))
    except InvalidOperation:
        raise ValidationError({"price": [_("Enter a number.")]}) from None
    with transaction.atomic():
        pl = queries.price_list_for_write(price_list_id=price_list_id)
        products = queries.products_by_id(actor=actor, ids={product_id})
        if product_id not in products:
            raise ValidationError({"product": [_("No such product.")]})
        item = queries.price_list_item_find(price_list_id=pl.pk, product_id=product_id)
        old = item.price if item else None
        if item is None:
            item = PriceListItem(price_list=pl, product_id=product_id)
        item.price = price
        validate(item, exclude=["price_list", "product"])
        if item.price < 0:
            raise ValidationError({"price": [_("The price cannot be negative.")]})
        if old is not None and old == item.price:
            return item
        item.save()
        audit.record(actor, pl, "update", changes={
            f"price:{products[product_id].sku}": [None if old is None else str(old),
                                                  str(item.price)]})
        emit("sales.price_list_updated", price_list_id=pl.pk, product_id=product_id)
    return item


def price_list_item_remove(*, actor: Actor, price_list_id: int, item_id: int | None = None,
                           product_id: int | None = None) -> None:
    """Take a product off a price list, by the item's id or the product's (administrators).
    Audit ``update``."""
    require_admin(actor)
    with transaction.atomic():
        pl = queries.price_list_for_write(price_list_id=price_list_id)
        if item_id is not None:
            item = queries.price_list_item_get(price_list_id=pl.pk, item_id=item_id)
        else:
            item = queries.price_list_item_find(price_list_id=pl.pk, product_id=product_id)
            if item is None:
                raise NotFound("the product is not on this price list")
        audit.record(actor, pl, "update", changes={
            f"price:{item.product.sku}": [str(item.price), None]})
        item.delete()
        emit("sales.price_list_updated", price_list_id=pl.pk, product_id=item.product_id)
