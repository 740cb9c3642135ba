"""Reference-data pages: the product catalogue (filters, keyset pages; administrators add
and edit), price lists with their prices, exchange rates. Thin: forms check shape, the
services check meaning (and that the actor is an administrator)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.access import Actor
from guanxi.core.exceptions import Conflict, PermissionDenied, ValidationError
from guanxi.core.forms import StyledForm
from guanxi.core.queries import require_admin
from guanxi.core.web import errors_into_form, page, web_actor
from guanxi.customers.models import RelationKind
from guanxi.sales.models import Currency
from guanxi.sales.queries import products as queries
from guanxi.sales.services import fx as fx_services
from guanxi.sales.services import products as services


def _is_admin(actor: Actor) -> bool:
    try:
        require_admin(actor)
    except PermissionDenied:
        return False
    return True


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 16 else None


# Forms ------------------------------------------------------------------------------------

class ProductForm(StyledForm, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=60)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    category = forms.TypedChoiceField(label=gettext_lazy("Category"), required=False,
                                      coerce=int, empty_value=None)
    product_line = forms.CharField(label=gettext_lazy("Product line"), max_length=60,
                                   required=False)
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=20, initial="件")
    list_price = forms.DecimalField(label=gettext_lazy("List price"), min_value=0,
                                    max_digits=18, decimal_places=2)
    cost = forms.DecimalField(label=gettext_lazy("Unit cost"), min_value=0, max_digits=18,
                              decimal_places=2, required=False)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=Currency.choices,
                                 initial="CNY")
    tax_rate = forms.TypedChoiceField(label=gettext_lazy("VAT rate"), coerce=int)
    active = forms.BooleanField(label=gettext_lazy("Active (offered on new quotes)"),
                                required=False, initial=True)

    FIELDS = ("sku", "name", "category", "product_line", "unit", "list_price", "cost",
              "currency", "tax_rate", "active")

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [
            (c.pk, f"{c.parent.name} / {c.name}" if c.parent_id else c.name)
            for c in queries.category_list(actor=actor)]
        self.fields["tax_rate"].choices = [
            (r.pk, r.name) for r in queries.tax_rate_list(actor=actor, active_only=False)]
        self.style()

    def changes(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.FIELDS}


class CategoryForm(StyledForm, forms.Form):
    name = forms.CharField(label=gettext_lazy("New category"), max_length=100)
    parent = forms.TypedChoiceField(label=gettext_lazy("Parent"), required=False, coerce=int,
                                    empty_value=None)

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "—")] + [
            (c.pk, c.name) for c in queries.category_list(actor=actor) if not c.parent_id]
        self.style()


class PriceListForm(StyledForm, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=Currency.choices,
                                 initial="CNY")
    relation_kind = forms.ChoiceField(
        label=gettext_lazy("Customer group"), required=False,
        choices=[("", gettext_lazy("any"))] + list(RelationKind.choices))
    channel = forms.CharField(label=gettext_lazy("Sales channel"), max_length=30,
                              required=False,
                              help_text=gettext_lazy("e.g. tmall, wechat, stores; empty for "
                                                     "any channel"))
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    FIELDS = ("name", "currency", "relation_kind", "channel", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    def changes(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.FIELDS}


class PriceItemForm(StyledForm, forms.Form):
    product = forms.TypedChoiceField(label=gettext_lazy("Product"), coerce=int)
    price = forms.DecimalField(label=gettext_lazy("Price"), min_value=0, max_digits=18,
                               decimal_places=2)

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [
            (p.pk, f"{p.sku} {p.name}") for p in queries.product_choices(actor=actor)]
        self.style()


class ExchangeRateForm(StyledForm, forms.Form):
    currency = forms.ChoiceField(label=gettext_lazy("Currency"),
                                 choices=[c for c in Currency.choices if c[0] != "CNY"])
    valid_from = forms.DateField(label=gettext_lazy("Valid from"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.DecimalField(label=gettext_lazy("CNY per unit"), min_value=0,
                              max_digits=18, decimal_places=8)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


# Products ---------------------------------------------------------------------------------

def _filters(request: HttpRequest) -> queries.ProductFilters:
    g = request.GET
    active = {"1": True, "0": False}.get(g.get("active", ""))
    return queries.ProductFilters(q=g.get("q", "")[:100], category=_int(g.get("category")),
                                  product_line=g.get("product_line", "")[:60],
                                  currency=g.get("currency", "")[:3], active=active)


@page
def product_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    sort = request.GET.get("sort", "sku")
    if sort not in queries.SORTS:
        sort = "sku"
    try:
        p = queries.product_list(actor=actor, filters=_filters(request), sort=sort,
                                 cursor=request.GET.get("cursor"))
        error = None
    except ValidationError as exc:
        p, error = None, "; ".join(" ".join(v) for v in exc.message_dict.values())
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    next_url = "?" + urlencode({**params, "cursor": p.next_cursor}) if p and p.next_cursor \
        else None
    ctx = {"page": p, "error": error, "params": params, "query_string": urlencode(params),
           "next_url": next_url, "sort": sort, "is_first": not request.GET.get("cursor"),
           "categories": queries.category_list(actor=actor),
           "product_lines": queries.product_lines(), "currencies": Currency.choices,
           "is_admin": _is_admin(actor), "sees_costs": queries.sees_costs(actor)}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "rows":
        return render(request, "sales/products/_rows.html", ctx)
    return render(request, "sales/products/list.html", ctx)


@page
def product_create(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    require_admin(actor)
    form = ProductForm(request.POST or None, actor=actor)
    category_form = CategoryForm(actor=actor)
    if request.method == "POST" and request.POST.get("form") == "category":
        category_form = CategoryForm(request.POST, actor=actor)
        form = ProductForm(actor=actor)
        if category_form.is_valid():
            try:
                c = services.category_create(actor=actor, name=category_form.cleaned_data["name"],
                                             parent_id=category_form.cleaned_data["parent"])
            except ValidationError as exc:
                errors_into_form(category_form, exc)
            else:
                messages.success(request, _("Category %(name)s added.") % {"name": c.name})
                return redirect("product_create")
    elif request.method == "POST" and form.is_valid():
        try:
            p = services.product_create(actor=actor, data=form.changes())
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Product %(sku)s added.") % {"sku": p.sku})
            return redirect("product_list")
    return render(request, "sales/products/form.html",
                  {"form": form, "category_form": category_form, "creating": True})


@page
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    actor = web_actor(request)
    require_admin(actor)
    product = queries.product_get(actor=actor, product_id=product_id)
    initial = {name: getattr(product, name) for name in ProductForm.FIELDS
               if name not in ("category", "tax_rate")}
    initial.update(category=product.category_id, tax_rate=product.tax_rate_id,
                   version=product.version)
    form = ProductForm(request.POST or None, initial=initial, actor=actor)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(actor=actor, product_id=product_id,
                                    version=form.cleaned_data.get("version") or 0,
                                    changes=form.changes())
        except Conflict as exc:
            current = exc.current or {}
            conflict = [{"field": form.fields[name].label, "theirs": current.get(name),
                         "mine": value} for name, value in form.changes().items()
                        if str(current.get(name) or "") != str(value or "")]
            data = request.POST.copy()
            data["version"] = str(exc.current_version)
            form = ProductForm(data, initial=initial, actor=actor)
            form.is_valid()
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("product_list")
    return render(request, "sales/products/form.html",
                  {"form": form, "creating": False, "product": product, "conflict": conflict})


# Price lists ------------------------------------------------------------------------------

@page
def pricelist_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    is_admin = _is_admin(actor)
    form = PriceListForm(request.POST or None)
    if request.method == "POST":
        require_admin(actor)
        if form.is_valid():
            try:
                pl = services.price_list_create(actor=actor, data=form.changes())
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("Price list %(name)s added.") % {"name": pl.name})
                return redirect("pricelist_detail", price_list_id=pl.pk)
    price_lists = queries.price_list_list(actor=actor)
    for pl in price_lists:
        pl.group_label = _group_label(pl.relation_kind)
    return render(request, "sales/products/pricelists.html", {
        "price_lists": price_lists, "form": form, "is_admin": is_admin})


def _group_label(relation_kind: str) -> str:
    return str(dict(RelationKind.choices).get(relation_kind, relation_kind)) if relation_kind \
        else _("any")


@page
def pricelist_detail(request: HttpRequest, price_list_id: int) -> HttpResponse:
    actor = web_actor(request)
    pl = queries.price_list_get(actor=actor, price_list_id=price_list_id)
    is_admin = _is_admin(actor)
    item_form = PriceItemForm(actor=actor) if is_admin else None
    initial = {f: getattr(pl, f) for f in PriceListForm.FIELDS} | {"version": pl.version}
    header_form = PriceListForm(initial=initial) if is_admin else None
    conflict = None
    if request.method == "POST":
        require_admin(actor)
        if request.POST.get("form") == "header":
            header_form = PriceListForm(request.POST, initial=initial)
            if header_form.is_valid():
                try:
                    services.price_list_update(actor=actor, price_list_id=pl.pk,
                                               version=header_form.cleaned_data.get("version")
                                               or 0, changes=header_form.changes())
                except Conflict as exc:
                    current = exc.current or {}
                    conflict = [{"field": header_form.fields[name].label,
                                 "theirs": current.get(name), "mine": value}
                                for name, value in header_form.changes().items()
                                if str(current.get(name) or "") != str(value or "")]
                    data = request.POST.copy()
                    data["version"] = str(exc.current_version)
                    header_form = PriceListForm(data, initial=initial)
                    header_form.is_valid()
                except ValidationError as exc:
                    errors_into_form(header_form, exc)
                else:
                    messages.success(request, _("Changes saved."))
                    return redirect("pricelist_detail", price_list_id=pl.pk)
        else:
            item_form = PriceItemForm(request.POST, actor=actor)
            if item_form.is_valid():
                try:
                    services.price_list_item_set(actor=actor, price_list_id=pl.pk,
                                                 product_id=item_form.cleaned_data["product"],
                                                 price=item_form.cleaned_data["price"])
                except ValidationError as exc:
                    errors_into_form(item_form, exc)
                else:
                    messages.success(request, _("Price saved."))
                    return redirect("pricelist_detail", price_list_id=pl.pk)
    pl.group_label = _group_label(pl.relation_kind)
    return render(request, "sales/products/pricelist_detail.html", {
        "pl": pl, "items": queries.price_list_items(actor=actor, price_list_id=pl.pk),
        "item_form": item_form, "header_form": header_form, "is_admin": is_admin,
        "conflict": conflict})


@page
@require_POST
def pricelist_item_remove(request: HttpRequest, price_list_id: int, item_id: int
                          ) -> HttpResponse:
    services.price_list_item_remove(actor=web_actor(request), price_list_id=price_list_id,
                                    item_id=item_id)
    messages.success(request, _("Product taken off the price list."))
    return redirect("pricelist_detail", price_list_id=price_list_id)


# Exchange rates ---------------------------------------------------------------------------

@page
def fx_rates(request: HttpRequest) -> HttpResponse:
    """Exchange rates: each currency's dated rates (CNY per unit); administrators add one."""
    actor = web_actor(request)
    is_admin = _is_admin(actor)
    form = ExchangeRateForm(request.POST or None,
                            initial={"valid_from": timezone.localdate()})
    if request.method == "POST":
        require_admin(actor)
        if form.is_valid():
            try:
                fx_services.exchange_rate_set(actor=actor, **form.cleaned_data)
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("Exchange rate saved."))
                return redirect("fx_rates")
    today = timezone.localdate()
    return render(request, "sales/products/fx_rates.html", {
        "rates": queries.exchange_rate_list(actor=actor),
        "current": sorted(queries.exchange_rate_current(actor=actor, on=today).values(),
                          key=lambda r: r.currency),
        "today": today, "form": form, "is_admin": is_admin})


urlpatterns = [
    path("products/", product_list, name="product_list"),
    path("products/new/", product_create, name="product_create"),
    path("products/<int:product_id>/edit/", product_edit, name="product_edit"),
    path("price-lists/", pricelist_list, name="pricelist_list"),
    path("price-lists/<int:price_list_id>/", pricelist_detail, name="pricelist_detail"),
    path("price-lists/<int:price_list_id>/items/<int:item_id>/remove/", pricelist_item_remove,
         name="pricelist_item_remove"),
    path("exchange-rates/", fx_rates, name="fx_rates"),
]
