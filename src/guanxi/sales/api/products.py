"""/api/v1/products: the catalogue, price lists and tax rates (reference data: every
signed-in user reads it, administrators change it). Thin handlers, one service or query each."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from guanxi.core.access import Actor
from guanxi.core.api import actor_from
from guanxi.customers.schemas import ConflictOut, ErrorOut
from guanxi.sales.queries import products as queries
from guanxi.sales.services import products as services

router = Router(tags=["products"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut,
          422: ErrorOut}
MAX_ID = 2**53

CurrencyT = Literal["CNY", "USD", "EUR", "HKD", "JPY"]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Line = Annotated[str, StringConstraints(max_length=60)]
Unit = Annotated[str, StringConstraints(max_length=20)]
Price = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ProductIn(Schema):
    sku: Sku
    name: Name
    category: Id | None = Field(None, description="category id")
    product_line: Line = ""
    unit: Unit = "件"
    list_price: Price
    cost: Price | None = Field(None, description="unit cost, for margins")
    currency: CurrencyT = "CNY"
    tax_rate: Id = Field(description="tax rate id (see GET /products/tax-rates)")
    active: bool = True


class ProductPatch(Schema):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    sku: Sku | None = None
    name: Name | None = None
    category: Id | None = None
    product_line: Line | None = None
    unit: Unit | None = None
    list_price: Price | None = None
    cost: Price | None = None
    currency: CurrencyT | None = None
    tax_rate: Id | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category_id: int | None
    category_name: str
    product_line: str
    unit: str
    list_price: Decimal
    cost: Decimal | None = Field(description="administrators only; null for others")
    currency: str
    tax_rate_id: int
    tax_rate: Decimal = Field(description="the VAT rate as a fraction")
    active: bool
    version: int


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None
    count: str = Field(description="rows matching, exact up to the limit, then 'N+'")


class TaxRateOut(Schema):
    id: int
    code: str
    name: str
    rate: Decimal
    active: bool


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    relation_kind: str = Field(description="customer group, empty for any")
    channel: str = Field(description="sales channel, empty for any")
    active: bool
    version: int


RelationKindT = Literal["", "consumer", "intermediary", "internal", "public"]
Channel = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]


class PriceListIn(Schema):
    name: Name
    currency: CurrencyT = "CNY"
    relation_kind: RelationKindT = Field("", description="customer group, empty for any")
    channel: Channel = Field("", description="sales channel, empty for any")
    active: bool = True


class PriceListPatch(Schema):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    name: Name | None = None
    currency: CurrencyT | None = Field(None, description="only while the list prices nothing")
    relation_kind: RelationKindT | None = None
    channel: Channel | None = None
    active: bool | None = None


class PriceIn(Schema):
    price: Price


class PriceListItemOut(Schema):
    product_id: int
    sku: str
    name: str
    price: Decimal


class PriceListDetail(PriceListOut):
    items: list[PriceListItemOut]


class ListParams(Schema):
    q: str = Field("", max_length=100, description="SKU prefix or part of the name")
    category: int | None = Field(None, ge=1, le=MAX_ID)
    product_line: str = Field("", max_length=60)
    currency: str = Field("", max_length=3)
    active: bool | None = None
    sort: str = Field("sku", description="sku, -sku, name, -name, -id, id")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


def _out(actor: Actor, p) -> dict:
    return {"id": p.pk, "sku": p.sku, "name": p.name, "category_id": p.category_id,
            "category_name": p.category.name if p.category_id else "",
            "product_line": p.product_line, "unit": p.unit, "list_price": p.list_price,
            "cost": p.cost if queries.sees_costs(actor) else None, "currency": p.currency,
            "tax_rate_id": p.tax_rate_id, "tax_rate": p.tax_rate.rate, "active": p.active,
            "version": p.version}


@router.get("", response={200: ProductPage, **ERRORS}, summary="List products")
def list_products(request: HttpRequest, params: Query[ListParams]):
    """Products by SKU; follow ``next_cursor`` for the next page."""
    actor = actor_from(request)
    f = queries.ProductFilters(q=params.q, category=params.category,
                               product_line=params.product_line, currency=params.currency,
                               active=params.active)
    page = queries.product_list(actor=actor, filters=f, sort=params.sort, cursor=params.cursor,
                                limit=params.limit)
    return {"items": [_out(actor, p) for p in page.items], "next_cursor": page.next_cursor,
            "count": page.count_text}


@router.get("/tax-rates", response={200: list[TaxRateOut], **ERRORS},
            summary="VAT rates")
def list_tax_rates(request: HttpRequest):
    return queries.tax_rate_list(actor=actor_from(request), active_only=False)


@router.get("/categories", response={200: list[CategoryOut], **ERRORS},
            summary="Product categories")
def list_categories(request: HttpRequest):
    return queries.category_list(actor=actor_from(request))


@router.get("/price-lists", response={200: list[PriceListOut], **ERRORS},
            summary="Price lists")
def list_price_lists(request: HttpRequest):
    return queries.price_list_list(actor=actor_from(request))


@router.get("/price-lists/{price_list_id}", response={200: PriceListDetail, **ERRORS},
            summary="One price list with its prices")
def get_price_list(request: HttpRequest, price_list_id: int = Path(..., ge=1, le=MAX_ID)):
    return _price_list_detail(actor_from(request), price_list_id)


def _price_list_detail(actor: Actor, price_list_id: int) -> dict:
    pl = queries.price_list_get(actor=actor, price_list_id=price_list_id)
    items = queries.price_list_items(actor=actor, price_list_id=pl.pk)
    return {"id": pl.pk, "name": pl.name, "currency": pl.currency, "version": pl.version,
            "relation_kind": pl.relation_kind, "channel": pl.channel, "active": pl.active,
            "items": [{"product_id": i.product_id, "sku": i.product.sku,
                       "name": i.product.name, "price": i.price} for i in items]}


@router.post("/price-lists", response={201: PriceListDetail, **ERRORS},
             summary="Add a price list")
def create_price_list(request: HttpRequest, payload: PriceListIn):
    """Administrators only. A price list prices products for a customer group (relation
    kind) or a sales channel; set its prices with ``PUT .../items/{product_id}``."""
    actor = actor_from(request)
    pl = services.price_list_create(actor=actor, data=payload.model_dump())
    return Status(201, _price_list_detail(actor, pl.pk))


@router.patch("/price-lists/{price_list_id}", response={200: PriceListDetail, **ERRORS},
              summary="Change a price list")
def update_price_list(request: HttpRequest, payload: PriceListPatch,
                      price_list_id: int = Path(..., ge=1, le=MAX_ID)):
    """Administrators only. Send the ``version`` you read; a stale version answers 409 with
    the current state."""
    actor = actor_from(request)
    services.price_list_update(actor=actor, price_list_id=price_list_id,
                               version=payload.version,
                               changes=payload.model_dump(exclude_unset=True,
                                                          exclude={"version"}))
    return _price_list_detail(actor, price_list_id)


@router.put("/price-lists/{price_list_id}/items/{product_id}",
            response={200: PriceListDetail, **ERRORS}, summary="Set a product's price")
def set_price(request: HttpRequest, payload: PriceIn,
              price_list_id: int = Path(..., ge=1, le=MAX_ID),
              product_id: int = Path(..., ge=1, le=MAX_ID)):
    """Administrators only. Adds the product to the price list, or changes its price."""
    actor = actor_from(request)
    services.price_list_item_set(actor=actor, price_list_id=price_list_id,
                                 product_id=product_id, price=payload.price)
    return _price_list_detail(actor, price_list_id)


@router.delete("/price-lists/{price_list_id}/items/{product_id}",
               response={204: None, **ERRORS}, summary="Take a product off a price list")
def remove_price(request: HttpRequest, price_list_id: int = Path(..., ge=1, le=MAX_ID),
                 product_id: int = Path(..., ge=1, le=MAX_ID)):
    """Administrators only."""
    services.price_list_item_remove(actor=actor_from(request), price_list_id=price_list_id,
                                    product_id=product_id)
    return Status(204, None)


@router.get("/{product_id}", response={200: ProductOut, **ERRORS}, summary="One product")
def get_product(request: HttpRequest, product_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = actor_from(request)
    return _out(actor, queries.product_get(actor=actor, product_id=product_id))


@router.post("", response={201: ProductOut, **ERRORS}, summary="Add a product")
def create_product(request: HttpRequest, payload: ProductIn):
    """Administrators only."""
    actor = actor_from(request)
    p = services.product_create(actor=actor, data=payload.model_dump())
    return Status(201, _out(actor, queries.product_get(actor=actor, product_id=p.pk)))


@router.patch("/{product_id}", response={200: ProductOut, **ERRORS},
              summary="Change a product")
def update_product(request: HttpRequest, payload: ProductPatch,
                   product_id: int = Path(..., ge=1, le=MAX_ID)):
    """Administrators only. Send the ``version`` you read; a stale version answers 409 with
    the current state."""
    actor = actor_from(request)
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    services.product_update(actor=actor, product_id=product_id, version=payload.version,
                            changes=changes)
    return _out(actor, queries.product_get(actor=actor, product_id=product_id))
