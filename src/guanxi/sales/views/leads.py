"""Lead pages: list, capture by hand, detail with qualify / convert / lose, and the public
web form (spam protection, consent recorded)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from guanxi.core.access import Actor, policy
from guanxi.core.exceptions import Conflict, ValidationError
from guanxi.core.web import errors_into_form, page, web_actor
from guanxi.sales.forms import LeadForm, WebLeadForm
from guanxi.sales.models import Lead, LeadStatus
from guanxi.sales.queries import leads as queries
from guanxi.sales.services import leads as services


@page
def lead_list(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    g = request.GET
    f = queries.LeadFilters(q=g.get("q", "")[:100], status=g.get("status", ""),
                            source=g.get("source", "")[:30])
    p = queries.lead_list(actor=actor, filters=f, cursor=g.get("cursor"))
    params = {k: v for k, v in g.items() if k != "cursor" and v}
    return render(request, "sales/leads/list.html", {
        "page": p, "params": params, "statuses": LeadStatus.choices,
        "next_url": "?" + urlencode({**params, "cursor": p.next_cursor}) if p.next_cursor
        else None, "can_add": policy.can(actor, Lead, "add")})


@page
def lead_create(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    policy.require_model(actor, Lead, "add")
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v}
        data.setdefault("source", "manual")
        try:
            lead = services.lead_create(actor=actor, data=data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("Lead added."))
            return redirect("lead_detail", lead_id=lead.pk)
    return render(request, "sales/leads/form.html", {"form": form})


@page
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = web_actor(request)
    lead = queries.lead_get(actor=actor, lead_id=lead_id)
    return render(request, "sales/leads/detail.html", {
        "lead": lead, "can_change": policy.allows(actor, "change", lead)})


@page
@require_POST
def lead_action(request: HttpRequest, lead_id: int, action: str) -> HttpResponse:
    actor = web_actor(request)
    version = int(request.POST.get("version") or 0)
    try:
        if action == "qualify":
            services.lead_qualify(actor=actor, lead_id=lead_id, version=version)
            messages.success(request, _("Lead qualified."))
        elif action == "lose":
            services.lead_lose(actor=actor, lead_id=lead_id, version=version,
                               reason=request.POST.get("reason", ""))
            messages.success(request, _("Lead closed as lost."))
        elif action == "convert":
            use_existing = request.POST.get("use_duplicate") and request.POST.get("customer_id")
            lead = services.lead_convert(
                actor=actor, lead_id=lead_id, version=version,
                customer_id=int(request.POST["customer_id"]) if use_existing else None,
                opportunity={"amount": request.POST.get("amount") or "0"}
                if request.POST.get("with_opportunity") else None)
            messages.success(request, _("Lead converted."))
            if lead.opportunity_id:
                return redirect("opportunity_detail", opportunity_id=lead.opportunity_id)
            return redirect("customer_detail", customer_id=lead.customer_id)
    except Conflict:
        messages.error(request, _("Someone else changed this lead; here is its current "
                                  "state."))
    except ValidationError as exc:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in
                                          exc.message_dict.items()))
    return redirect("lead_detail", lead_id=lead_id)


# The web form may be framed by the sites listed in LEAD_FORM_FRAME_ANCESTORS.
_FORM_CSP = {**settings.SECURE_CSP, "frame-ancestors": ["'self'", *getattr(
    settings, "LEAD_FORM_FRAME_ANCESTORS", [])]}


@xframe_options_exempt
@csp_override(_FORM_CSP)
def web_form(request: HttpRequest) -> HttpResponse:
    """Public lead form (no sign-in) to embed with an <iframe>. A filled hidden field or a
    submission faster than 3 seconds is treated as a bot and silently dropped."""
    form = WebLeadForm(request.POST or None, initial={"started": f"{time.time():.0f}"})
    done = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            started = float(d.get("started") or 0)
        except ValueError:
            started = 0
        is_bot = bool(d.get("website")) or time.time() - started < 3
        if not is_bot:
            try:
                services.lead_create(
                    actor=Actor.system(channel="web"), consent=bool(d["consent"]),
                    consent_evidence=f"web form {request.META.get('REMOTE_ADDR', '')}: "
                                     f"\u201c{form.fields['consent'].label}\u201d ticked",
                    data={"name": d["name"], "company": d["company"], "phone": d["phone"],
                          "email": d["email"], "province": d["province"],
                          "message": d["message"], "source": "web_form",
                          "campaign": request.GET.get("campaign", "")[:100]})
            except ValidationError as exc:
                errors_into_form(form, exc)
                return render(request, "sales/leads/web_form.html", {"form": form})
        done = True
    return render(request, "sales/leads/web_form.html", {"form": form, "done": done})


urlpatterns = [
    path("leads/", lead_list, name="lead_list"),
    path("leads/new/", lead_create, name="lead_create"),
    path("leads/<int:lead_id>/", lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/<str:action>/", lead_action, name="lead_action"),
    path("form/", web_form, name="lead_web_form"),
]
