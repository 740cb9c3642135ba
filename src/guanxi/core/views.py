"""Sign-in, home, language, profile and tokens, the audit trail, custom fields."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import queries, services
from guanxi.core.exceptions import Conflict, ValidationError
from guanxi.core.forms import CustomFieldForm, LoginForm, TeamForm, UserForm
from guanxi.core.web import errors_into_form, page, web_actor


def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    """Sign-in with throttling: after LOGIN_FAILURE_LIMIT failures for a username or an
    address within the window, further attempts are refused until the window passes."""

    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = (request.POST.get("username") or "").strip()
        address = request.META.get("REMOTE_ADDR", "")
        since = timezone.now() - timezone.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        by_user, by_addr = queries.recent_login_failures(username=username, address=address,
                                                         since=since)
        limit = settings.LOGIN_FAILURE_LIMIT
        if by_user >= limit or by_addr >= limit * 4:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed sign-ins. Try again in %(minutes)d "
                                   "minutes.") % {
                "minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.login_failure_record(username=(self.request.POST.get("username") or ""),
                                      address=self.request.META.get("REMOTE_ADDR", ""))
        return super().form_invalid(form)


@page
def home(request: HttpRequest) -> HttpResponse:
    from guanxi.customers import queries as customer_queries

    actor = web_actor(request)
    page_ = customer_queries.customer_list(actor=actor, limit=8)
    return render(request, "core/home.html", {"recent": page_.items,
                                              "count_text": page_.count_text})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language (remembered in a cookie and on the user)."""
    lang = request.POST.get("language", "")
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    if lang and check_for_language(lang) and lang in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 86400,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=lang)
    return response


@page
def profile(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    new_key = None
    if request.method == "POST":
        if "revoke" in request.POST:
            services.token_revoke(actor=actor, token_id=int(request.POST["revoke"]))
            messages.success(request, _("Token revoked."))
            return redirect("profile")
        new_key = services.token_create(actor=actor, user=request.user,
                                        name=request.POST.get("name", "")[:100])
    return render(request, "core/profile.html", {
        "tokens": queries.tokens_of(actor=actor), "new_key": new_key})


@page
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    p = queries.audit_list(actor=actor, model=request.GET.get("model", ""),
                           user=request.GET.get("user", ""), cursor=request.GET.get("cursor"))
    return render(request, "core/audit.html", {"page": p})


@page
def custom_fields(request: HttpRequest) -> HttpResponse:
    actor = web_actor(request)
    queries.require_admin(actor)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST":
        if "delete" in request.POST:
            services.custom_field_delete(actor=actor, field_id=int(request.POST["delete"]))
            messages.success(request, _("Custom field deleted."))
            return redirect("custom_fields")
        if form.is_valid():
            try:
                services.custom_field_create(actor=actor, data=form.to_data())
            except (ValidationError, Conflict) as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("Custom field added."))
                return redirect("custom_fields")
    return render(request, "core/custom_fields.html", {
        "fields": queries.custom_field_list(), "form": form})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403.html", {"reason": _("The form expired. Go back, reload the "
                                                    "page and try again.")}, status=403)




@page
def users(request: HttpRequest) -> HttpResponse:
    """Administrators: the people who sign in, their roles and teams."""
    actor = web_actor(request)
    rows = queries.user_list(actor=actor)
    team_form = TeamForm(request.POST if "add_team" in request.POST else None)
    if request.method == "POST" and "add_team" in request.POST and team_form.is_valid():
        try:
            services.team_create(actor=actor, **team_form.cleaned_data)
            messages.success(request, _("Team added."))
            return redirect("users")
        except ValidationError as exc:
            errors_into_form(team_form, exc)
    return render(request, "core/users.html", {"rows": rows, "team_form": team_form,
                                               "teams": queries.team_list()})


@page
def user_edit(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    actor = web_actor(request)
    queries.require_admin(actor)
    target = queries.user_by_id(actor=actor, user_id=user_id) if user_id else None
    initial = {}
    if target:
        initial = {"username": target.username, "first_name": target.first_name,
                   "email": target.email, "role": target.role_id, "team": target.team_id,
                   "is_active": target.is_active}
    form = UserForm(request.POST or None, initial=initial, roles=queries.role_list(),
                    teams=queries.team_queryset(), editing=target is not None)
    if request.method == "POST" and form.is_valid():
        try:
            if target:
                data = form.to_data()
                data.pop("username", None)
                services.user_update(actor=actor, user_id=target.pk, changes=data,
                                     password=form.cleaned_data.get("password") or None)
            else:
                services.user_create(actor=actor, data=form.to_data(),
                                     password=form.cleaned_data["password"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("User saved."))
            return redirect("users")
    return render(request, "core/user_form.html", {"form": form, "target": target})
