"""Opportunity pages: the kanban board (drag between stages), list, detail, form."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.access import policy
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from guanxi.core.web import errors_into_form, page, web_actor
from guanxi.customers import queries as customer_queries
from guanxi.sales.forms import OpportunityForm
from guanxi.sales.models import Opportunity, OpportunityStatus
from guanxi.sales.queries import opportunities as queries
from guanxi.sales.services import opportunities as services


def _int(v):
    return int(v) if v and str(v).isdigit() else None


@page
def board(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    b = queries.board(actor=actor, pipeline_id=_int(request.GET.get("pipeline")),
                      owner=_int(request.GET.get("owner")))
    return render(request, "sales/opportunities/board.html", {
        "board": b, "pipelines": queries.pipelines(),
        "can_add": policy.can(actor, Opportunity, "add")})


@page
@require_POST
def move(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """The board's drop (JSON answer, so the page can put the card back on refusal) and the
    detail page's move form (redirect with a message)."""
    actor = web_actor(request)
    wants_json = "application/json" in request.headers.get("Accept", "")
    status, body = 200, {"ok": True}
    try:
        opp = services.opportunity_move(
            actor=actor, opportunity_id=opportunity_id,
            stage_id=_int(request.POST.get("stage")) or 0,
            version=_int(request.POST.get("version")), reason=request.POST.get("reason", ""))
        body.update(version=opp.version, status=opp.status)
    except Conflict as exc:
        status, body = 409, {"ok": False, "error": _("Someone else moved it first; reload the "
                                                     "board."), "version": exc.current_version}
    except ValidationError as exc:
        status, body = 422, {"ok": False, "errors": exc.message_dict}
    except PermissionDenied as exc:
        status, body = 403, {"ok": False, "error": str(exc)}
    except NotFound:
        status, body = 404, {"ok": False, "error": _("Not found.")}
    if wants_json:
        return JsonResponse(body, status=status)
    if status == 404:
        raise NotFound("opportunity not found")
    if status == 403:
        raise PermissionDenied(body["error"])
    if body["ok"]:
        messages.success(request, _("Opportunity moved."))
    else:
        messages.error(request, body.get("error") or "; ".join(
            " ".join(v) for v in body.get("errors", {}).values()))
    return redirect("opportunity_detail", opportunity_id=opportunity_id)


@page
def opportunity_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    g = request.GET
    f = queries.OpportunityFilters(q=g.get("q", "")[:100], status=g.get("status", ""),
                                   owner=_int(g.get("owner")), stage=_int(g.get("stage")),
                                   customer=_int(g.get("customer")))
    p = queries.opportunity_list(actor=actor, filters=f, cursor=g.get("cursor"))
    params = {k: v for k, v in g.items() if k != "cursor" and v}
    return render(request, "sales/opportunities/list.html", {
        "page": p, "params": params, "statuses": OpportunityStatus.choices,
        "next_url": "?" + urlencode({**params, "cursor": p.next_cursor})
        if p.next_cursor else None})


@page
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    actor = web_actor(request)
    opp = queries.opportunity_get(actor=actor, opportunity_id=opportunity_id)
    return render(request, "sales/opportunities/detail.html", {
        "o": opp, "history": queries.stage_history(actor=actor, opportunity_id=opp.pk),
        "stages": queries.stages_of(opp.pipeline_id),
        "can_change": policy.allows(actor, "change", opp)})


@page
def opportunity_form(request: HttpRequest, opportunity_id: int | None = None) -> HttpResponse:
    actor = web_actor(request)
    opp = queries.opportunity_get(actor=actor, opportunity_id=opportunity_id) \
        if opportunity_id else None
    if opp:
        policy.require(actor, "change", opp)
        initial = {f: getattr(opp, f) for f in ("name", "amount", "currency", "expected_close",
                                                "probability", "competitors", "next_step",
                                                "version")}
        initial["customer"] = opp.customer_id
        choices = [(opp.customer_id, opp.customer.name)]
    else:
        policy.require_model(actor, Opportunity, "add")
        cid = _int(request.GET.get("customer") or request.POST.get("customer"))
        initial = {"customer": cid}
        choices = []
        if cid:
            c = customer_queries.customer_get(actor=actor, customer_id=cid)
            choices = [(c.pk, c.name)]
    form = OpportunityForm(request.POST or None, initial=initial, customer_choices=choices)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            if opp:
                data.pop("customer")
                opp = services.opportunity_update(actor=actor, opportunity_id=opp.pk,
                                                  version=version or 0, changes=data)
            else:
                opp = services.opportunity_create(actor=actor, data=data)
        except Conflict:
            form.add_error(None, _("Someone else changed this opportunity. Reload to see "
                                   "their version; your input is kept below."))
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect("opportunity_detail", opportunity_id=opp.pk)
    return render(request, "sales/opportunities/form.html", {"form": form, "o": opp})


urlpatterns = [
    path("opportunities/", opportunity_list, name="opportunity_list"),
    path("opportunities/board/", board, name="opportunity_board"),
    path("opportunities/new/", opportunity_form, name="opportunity_create"),
    path("opportunities/<int:opportunity_id>/", opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:opportunity_id>/edit/", opportunity_form,
         name="opportunity_edit"),
    path("opportunities/<int:opportunity_id>/move/", move, name="opportunity_move"),
]
