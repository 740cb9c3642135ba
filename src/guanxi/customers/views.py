"""Customer pages: list (filters, search, keyset pages, saved views, export), the 360 view,
create and edit (with version check), details. Thin: forms check shape, services meaning."""

from __future__ import annotations

import csv
import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import panels, timeline
from guanxi.core import queries as core_queries
from guanxi.core import services as core_services
from guanxi.core.access import policy
from guanxi.core.exceptions import Conflict, ValidationError
from guanxi.core.forms import static_widgets
from guanxi.core.web import Echo, csv_cell, errors_into_form, page, web_actor
from guanxi.customers import queries, services
from guanxi.customers.forms import (
    AddressForm,
    ConsentForm,
    ContactForm,
    ContactPointForm,
    CustomerForm,
)
from guanxi.customers.models import (
    Customer,
    Kind,
    LifecycleStage,
    RelationKind,
    SourceType,
)

FILTER_KEYS = ("q", "kind", "relation_kind", "owner", "team", "tag", "province", "source_type",
               "source_channel", "lifecycle_stage", "created_from", "created_to", "sort")


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def filters_from(request: HttpRequest) -> queries.CustomerFilters:
    g = request.GET
    return queries.CustomerFilters(
        q=g.get("q", "")[:100], kind=g.get("kind", ""), relation_kind=g.get("relation_kind", ""),
        owner=_int(g.get("owner")), team=_int(g.get("team")), tag=g.get("tag", "")[:50],
        province=g.get("province", "")[:30], source_type=g.get("source_type", ""),
        source_channel=g.get("source_channel", ""),
        lifecycle_stage=g.get("lifecycle_stage", ""),
        created_from=_date(g.get("created_from")), created_to=_date(g.get("created_to")),
        custom={k[3:]: v for k, v in g.items() if k.startswith("cf_") and v},
    )


@page
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    sort = request.GET.get("sort", "-id")
    if sort not in queries.SORTS:
        sort = "-id"
    try:
        p = queries.customer_list(actor=actor, filters=filters_from(request), sort=sort,
                                  cursor=request.GET.get("cursor"))
        error = None
    except ValidationError as exc:
        p, error = None, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    next_url = None
    if p and p.next_cursor:
        next_url = "?" + urlencode({**params, "cursor": p.next_cursor})
    ctx = {
        "page": p, "error": error, "params": params, "query_string": urlencode(params),
        "next_url": next_url, "sort": sort, "is_first": not request.GET.get("cursor"),
        "kinds": Kind.choices, "relation_kinds": RelationKind.choices,
        "stages": LifecycleStage.choices, "source_types": SourceType.choices,
        **queries.list_reference(actor=actor),
        "can_add": policy.can(actor, Customer, "add"),
        "can_export": policy.can(actor, Customer, "export"),
        "owners": (core_queries.owner_choices(actor=actor)
                   if "owner" in policy.writable_fields(actor, Customer, "change") else None),
    }
    ctx["selectable"] = ctx["owners"] is not None
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "rows":
        return render(request, "customers/_rows.html", ctx)
    return render(request, "customers/list.html", ctx)


@page
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    query = request.POST.get("query", "")
    try:
        core_services.saved_view_save(actor=actor, list_name="customers",
                                      name=request.POST.get("name", ""), query=query,
                                      shared=bool(request.POST.get("shared")))
        messages.success(request, _("View saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("customer_list") + "?" + query)


@page
@require_POST
def reassign(request: HttpRequest) -> HttpResponse:
    """Give the ticked customers to another owner (e.g. when a rep leaves)."""
    actor = web_actor(request)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    owner = _int(request.POST.get("owner"))
    if not ids or not owner:
        messages.error(request, _("Tick customers and choose the new owner."))
    else:
        try:
            n = services.customers_reassign(actor=actor, customer_ids=ids, owner_id=owner)
            messages.success(request, _("%(n)d customers reassigned.") % {"n": n})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(reverse("customer_list") + "?" + request.POST.get("query", ""))


@page
@require_POST
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    core_services.saved_view_delete(actor=web_actor(request), view_id=view_id)
    return redirect("customer_list")


@page
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with BOM for spreadsheet programs), within the
    actor's export scope, masked like every other read."""
    actor = web_actor(request)
    policy.require_model(actor, Customer, "export")
    writer = csv.writer(Echo())
    rows = queries.customer_export_rows(actor=actor, filters=filters_from(request))

    def stream():
        yield "\ufeff" + writer.writerow(list(queries.EXPORT_COLUMNS))
        for row in rows:
            yield writer.writerow([csv_cell(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


@page
def search(request: HttpRequest) -> HttpResponse:
    """Quick search: JSON for autocomplete widgets, an HTML fragment for the search box."""
    actor = web_actor(request)
    term = request.GET.get("q", "")[:100]
    rows = queries.customer_search(actor=actor, term=term, limit=20)
    if request.GET.get("format") == "json":
        return JsonResponse({"results": [{"id": c.pk, "name": c.name,
                                          "phone": c.primary_phone} for c in rows]})
    return render(request, "customers/_search_results.html", {"results": rows, "q": term})


def _form_kwargs(actor, *, creating: bool):
    action = "add" if creating else "change"
    writable = policy.writable_fields(actor, Customer, action)
    owners = core_queries.owner_choices(actor=actor) if "owner" in writable else None
    return {"creating": creating, "owners": owners, "writable": writable,
            "custom_fields": queries.custom_fields()}


@page
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    policy.require_model(actor, Customer, "add")
    form = CustomerForm(request.POST or None, **_form_kwargs(actor, creating=True),
                        initial={"kind": request.GET.get("kind", "person")})
    if request.method == "POST" and form.is_valid():
        from django.db import transaction

        try:
            with transaction.atomic():
                tags = [t.strip() for t in form.cleaned_data.get("tags", "").split(",")
                        if t.strip()]
                c = services.customer_create(actor=actor, data=form.changes(),
                                             custom=form.custom_data(), tags=tags)
                if form.cleaned_data.get("phone"):
                    try:
                        services.contact_point_add(actor=actor, customer_id=c.pk, kind="mobile",
                                                   value=form.cleaned_data["phone"],
                                                   is_primary=True)
                    except ValidationError as exc:
                        raise ValidationError({"phone": exc.message_dict["value"]}) from None
                if form.cleaned_data.get("email"):
                    try:
                        services.contact_point_add(actor=actor, customer_id=c.pk, kind="email",
                                                   value=form.cleaned_data["email"],
                                                   is_primary=True)
                    except ValidationError as exc:
                        raise ValidationError({"email": exc.message_dict["value"]}) from None
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": c.name})
            return redirect("customer_detail", customer_id=c.pk)
    return render(request, "customers/form.html", {"form": form, "creating": True})


@page
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = web_actor(request)
    customer = queries.customer_get(actor=actor, customer_id=customer_id)
    policy.require(actor, "change", customer)
    initial = {"version": customer.version}
    for v in customer.custom_values.all():
        key = f"cf_{v.field.code}"
        if v.field.type == "multi":
            initial.setdefault(key, []).append(v.text)
        else:
            initial[key] = v.date or v.number if v.field.type in ("date", "number") else v.text
    conflict = None
    form = CustomerForm(request.POST or None, instance=customer, initial=initial,
                        **_form_kwargs(actor, creating=False))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(actor=actor, customer_id=customer_id,
                                     version=form.cleaned_data.get("version") or 0,
                                     changes=form.changes(), custom=form.custom_data())
        except Conflict as exc:
            conflict = _conflict_rows(form, exc.current or {})
            # The next save is a deliberate overwrite of the version now shown.
            data = request.POST.copy()
            data["version"] = str(exc.current_version)
            form = CustomerForm(data, instance=queries.customer_get(
                actor=actor, customer_id=customer_id), **_form_kwargs(actor, creating=False))
            form.is_valid()
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customer_detail", customer_id=customer_id)
    return render(request, "customers/form.html", {"form": form, "creating": False,
                                                   "customer": customer, "conflict": conflict})


def _conflict_rows(form: CustomerForm, current: dict) -> list[dict]:
    rows = []
    for name, value in form.changes().items():
        theirs = current.get(name)
        mine = value
        if str(theirs or "") != str(mine or ""):
            rows.append({"field": form.fields[name].label, "theirs": theirs, "mine": mine})
    return rows


@page
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = web_actor(request)
    customer = queries.customer_get(actor=actor, customer_id=customer_id)
    ctx = {
        "c": customer,
        "consents": queries.current_consents(actor=actor, customer_id=customer_id),
        "can_change": policy.allows(actor, "change", customer),
        "can_delete": policy.allows(actor, "delete", customer),
        "point_form": static_widgets(ContactPointForm),
        "address_form": static_widgets(AddressForm),
        "contact_form": static_widgets(ContactForm),
        "consent_form": static_widgets(ConsentForm),
        "custom_values": _custom_display(customer),
        "panels": panels.render_context(actor=actor, customer=customer),
    }
    return render(request, "customers/detail.html", ctx)


TIMELINE_PAGE = 20


@page
def customer_timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's timeline, newest first, a page at a time: the customer page loads it
    after its first screen (htmx); ``?before=`` (an ISO 8601 instant) gives the older page."""
    actor = web_actor(request)
    before = None
    if request.GET.get("before"):
        try:
            before = parse_datetime(request.GET["before"])
        except ValueError:
            before = None
        if before is None or timezone.is_naive(before):
            return HttpResponse(_("before: expected a date and time with its UTC offset, "
                                  "such as 2026-11-24T09:30:00+08:00."),
                                status=400, content_type="text/plain; charset=utf-8")
    queries.require_visible(actor=actor, customer_id=customer_id)
    p = timeline.page(actor=actor, customer_id=customer_id, limit=TIMELINE_PAGE, before=before)
    return render(request, "customers/_timeline.html",
                  {"page": p, "customer_id": customer_id, "older": before is not None})


def _custom_display(customer) -> list[tuple[str, str]]:
    grouped: dict = {}
    for v in customer.custom_values.all():
        grouped.setdefault(v.field, []).append(v.display())
    return [(f.display_label(), ", ".join(vals)) for f, vals in
            sorted(grouped.items(), key=lambda kv: (kv[0].position, kv[0].code))]


def _detail_action(request, customer_id, form_class, apply, ok_message):
    actor = web_actor(request)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            apply(actor, form.cleaned_data)
            messages.success(request, ok_message)
        except ValidationError as exc:
            messages.error(request, "; ".join(
                f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v)
                for k, v in exc.message_dict.items()))
    else:
        messages.error(request, "; ".join(f"{form.fields[k].label if k in form.fields else k}: "
                                          f"{' '.join(v)}" for k, v in form.errors.items()))
    return redirect("customer_detail", customer_id=customer_id)


@page
@require_POST
def add_contact_point(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _detail_action(request, customer_id, ContactPointForm, lambda actor, d:
                          services.contact_point_add(actor=actor, customer_id=customer_id, **d),
                          _("Contact point added."))


@page
@require_POST
def remove_contact_point(request: HttpRequest, customer_id: int, point_id: int) -> HttpResponse:
    actor = web_actor(request)
    point = queries.contact_point_get(actor=actor, point_id=point_id)
    if point.customer_id == customer_id:
        services.contact_point_remove(actor=actor, point_id=point_id)
        messages.success(request, _("Contact point removed."))
    return redirect("customer_detail", customer_id=customer_id)


@page
@require_POST
def add_address(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _detail_action(request, customer_id, AddressForm, lambda actor, d:
                          services.address_add(actor=actor, customer_id=customer_id, data=d),
                          _("Address added."))


@page
@require_POST
def add_contact(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _detail_action(request, customer_id, ContactForm, lambda actor, d:
                          services.contact_create(actor=actor, customer_id=customer_id, data=d),
                          _("Contact added."))


@page
@require_POST
def record_consent(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _detail_action(request, customer_id, ConsentForm, lambda actor, d:
                          services.consent_record(actor=actor, customer_id=customer_id, **d),
                          _("Consent recorded."))


@page
@require_POST
def set_tags(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = web_actor(request)
    tags = [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()]
    try:
        services.customer_set_tags(actor=actor, customer_id=customer_id, tags=tags)
        messages.success(request, _("Tags saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("customer_detail", customer_id=customer_id)


@page
@require_POST
def customer_delete(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = web_actor(request)
    services.customer_delete(actor=actor, customer_id=customer_id,
                             version=_int(request.POST.get("version")))
    messages.success(request, _("Customer deleted."))
    return redirect("customer_list")
