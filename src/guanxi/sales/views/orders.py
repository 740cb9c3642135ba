"""Order pages: the list (filters, keyset pages), one order (lines, returns, status and
payment forms with the version, return or refund form), and the CSV import (upload, then
a progress bar that htmx refreshes every second). Thin: forms check shape, services
meaning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.access import policy
from guanxi.core.exceptions import Conflict, ValidationError
from guanxi.core.web import page, web_actor
from guanxi.sales.models import Order, OrderStatus, PaymentStatus, ReturnKind
from guanxi.sales.queries import orders as queries
from guanxi.sales.services import orders as services


class OrderUpdateForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", "—"), *OrderStatus.choices])
    payment_status = forms.ChoiceField(label=gettext_lazy("Payment"), required=False,
                                       choices=[("", "—"), *PaymentStatus.choices])


class OrderCancelForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)


class ReturnForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ReturnKind.choices)
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=18, decimal_places=2,
                                min_value=Decimal("0.01"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 16 else None


def filters_from(request: HttpRequest) -> queries.OrderFilters:
    g = request.GET
    return queries.OrderFilters(
        q=g.get("q", "")[:100], customer=_int(g.get("customer")),
        status=g.get("status", "")[:20], payment_status=g.get("payment_status", "")[:20],
        source=g.get("source", "")[:30], ordered_from=_date(g.get("ordered_from")),
        ordered_to=_date(g.get("ordered_to")))


def _messages_of(exc: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v)
                     for k, v in exc.message_dict.items())


@page
def order_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    sort = request.GET.get("sort", "-ordered")
    if sort not in queries.SORTS:
        sort = "-ordered"
    try:
        p = queries.order_list(actor=actor, filters=filters_from(request), sort=sort,
                               cursor=request.GET.get("cursor"))
        error = None
    except ValidationError as exc:
        p, error = None, _messages_of(exc)
    params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    next_url = "?" + urlencode({**params, "cursor": p.next_cursor}) if p and p.next_cursor \
        else None
    return render(request, "sales/orders/list.html", {
        "page": p, "error": error, "params": params, "query_string": urlencode(params),
        "next_url": next_url, "sort": sort, "is_first": not request.GET.get("cursor"),
        "statuses": OrderStatus.choices, "payments": PaymentStatus.choices,
        "can_import": policy.can(actor, Order, "add"),
    })


@page
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = web_actor(request)
    order = queries.order_get(actor=actor, order_id=order_id)
    returns = list(order.returns.all())
    lines = list(order.lines.all())
    for ln in lines:
        ln.rate_percent = f"{(ln.tax_rate * 100).normalize():f}"
    returned = sum((r.amount for r in returns), Decimal("0"))
    can_change = policy.allows(actor, "change", order)
    next_statuses = [(v, label) for v, label in OrderStatus.choices
                     if v in services.STATUS_FLOW[order.status] and v != OrderStatus.CANCELLED]
    return render(request, "sales/orders/detail.html", {
        "o": order, "lines": lines, "returns": returns, "net": order.total - order.tax_total,
        "returned": returned, "returnable": order.total - returned,
        "can_change": can_change, "next_statuses": next_statuses,
        "payments": PaymentStatus.choices,
        "can_cancel": can_change and OrderStatus.CANCELLED in services.STATUS_FLOW[
            order.status],
        "can_return": can_change and order.status != OrderStatus.CANCELLED
        and order.total - returned > 0,
        "return_kinds": ReturnKind.choices,
        "return_form": ReturnForm(initial={"kind": ReturnKind.REFUND}),
    })


def _post_action(request: HttpRequest, order_id: int, form: forms.Form, apply, ok: str
                 ) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, "; ".join(
            f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
            for k, v in form.errors.items()))
        return redirect("order_detail", order_id=order_id)
    try:
        apply(form.cleaned_data)
        messages.success(request, ok)
    except Conflict:
        messages.error(request, _("This order was changed by someone else; it now shows the "
                                  "current state. Please try again."))
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    return redirect("order_detail", order_id=order_id)


@page
@require_POST
def order_update(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = web_actor(request)
    queries.order_get(actor=actor, order_id=order_id)
    return _post_action(request, order_id, OrderUpdateForm(request.POST), lambda d:
                        services.order_update(actor=actor, order_id=order_id,
                                              version=d["version"],
                                              status=d["status"] or None,
                                              payment_status=d["payment_status"] or None),
                        _("Order updated."))


@page
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = web_actor(request)
    queries.order_get(actor=actor, order_id=order_id)
    return _post_action(request, order_id, OrderCancelForm(request.POST), lambda d:
                        services.order_cancel(actor=actor, order_id=order_id,
                                              version=d["version"], reason=d["reason"]),
                        _("Order cancelled."))


@page
@require_POST
def order_return(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = web_actor(request)
    queries.order_get(actor=actor, order_id=order_id)
    return _post_action(request, order_id, ReturnForm(request.POST), lambda d:
                        services.return_create(actor=actor, order_id=order_id, **d),
                        _("Return recorded."))


@page
def order_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file; the import runs as a background task."""
    actor = web_actor(request)
    policy.require_model(actor, Order, "add")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > services.MAX_CSV_BYTES:
                raise ValidationError({"file": [_("The file is larger than %(mb)d MB; split "
                                                  "it.") % {"mb": services.MAX_CSV_BYTES
                                                            // (1024 * 1024)}]})
            job = services.order_import_job_create(actor=actor, content=upload.read(),
                                                   filename=upload.name or "")
        except ValidationError as exc:
            form.add_error("file", _messages_of(exc))
        else:
            return redirect("order_import_job", job_id=job.pk)
    return render(request, "sales/orders/import.html", {
        "form": form, "jobs": queries.import_jobs_recent(actor=actor),
        "settings": services.import_settings()})


@page
def order_import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    progress = queries.import_job_get(actor=web_actor(request), job_id=job_id)
    return render(request, "sales/orders/import_job.html", {"p": progress})


@page
def order_import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress partial; it keeps polling itself until the job has finished."""
    progress = queries.import_job_get(actor=web_actor(request), job_id=job_id)
    return render(request, "sales/orders/_progress.html", {"p": progress})


@page
@require_POST
def order_import_resume(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        services.order_import_job_resume(actor=web_actor(request), job_id=job_id)
        messages.success(request, _("The import continues with the next batch."))
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    return redirect("order_import_job", job_id=job_id)


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/import/", order_import, name="order_import"),
    path("orders/import/<int:job_id>/", order_import_job, name="order_import_job"),
    path("orders/import/<int:job_id>/progress/", order_import_progress,
         name="order_import_progress"),
    path("orders/import/<int:job_id>/resume/", order_import_resume,
         name="order_import_resume"),
    path("orders/<int:order_id>/", order_detail, name="order_detail"),
    path("orders/<int:order_id>/update/", order_update, name="order_update"),
    path("orders/<int:order_id>/cancel/", order_cancel, name="order_cancel"),
    path("orders/<int:order_id>/returns/", order_return, name="order_return"),
]
