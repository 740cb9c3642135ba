"""Reads of core objects: users, teams, tokens, the audit trail, custom fields, saved views."""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.core import reference
from guanxi.core.access import Actor
from guanxi.core.exceptions import NotFound, PermissionDenied
from guanxi.core.models import (
    ApiToken,
    AuditRecord,
    CustomField,
    LoginFailure,
    SavedView,
    Team,
    User,
)
from guanxi.core.pagination import Page, Sort, paginate


def system_user() -> User:
    """The audited ``system`` user that scheduled jobs, the CLI and public forms act as."""
    from guanxi.core.access import SYSTEM_USERNAME

    return User.objects.select_related("role").get(username=SYSTEM_USERNAME)


class RoleGrant(NamedTuple):
    """What a grant allows: the scope and the fields that stay read-only."""

    scope: str
    readonly_fields: tuple[str, ...]


def grants_of_role(role_id: int | None) -> dict[tuple[str, str], RoleGrant]:
    """A role's grants by (model, action), from the cache of every role's grants
    (``core/reference.py``: dropped whenever a grant or role is saved or deleted)."""
    if not role_id:
        return {}
    return reference.read("grants")["grants"].get(role_id, {})


def all_grants() -> dict[int, dict[tuple[str, str], RoleGrant]]:
    """Every role's grants, as plain tuples (a role has some forty grants, and model
    instances for them cost more CPU than the query)."""
    from guanxi.core.models import Grant

    out: dict[int, dict[tuple[str, str], RoleGrant]] = {}
    for role_id, m, a, scope, ro in Grant.objects.values_list(
            "role_id", "model", "action", "scope", "readonly_fields"):
        out.setdefault(role_id, {})[(m, a)] = RoleGrant(scope, tuple(ro or ()))
    return out


def role_by_code(code: str):
    from guanxi.core.models import Role

    return Role.objects.filter(code=code).exclude(code="system").first()


def team_by_code(code: str) -> Team | None:
    return Team.objects.filter(code=code).first()


def user_for_token(key: str) -> User | None:
    """The active user owning an unrevoked token (and note its use, at most once a minute)."""
    token = (ApiToken.objects.select_related("user", "user__role")
             .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def tokens_of(*, actor: Actor) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=actor.user, revoked_at__isnull=True))


def user_get(*, username: str) -> User:
    try:
        return User.objects.select_related("role", "team").get(username=username)
    except User.DoesNotExist:
        raise NotFound(f"no user {username!r}") from None


def owner_choices(*, actor: Actor) -> QuerySet:
    """Users an actor may pick as a customer's owner: active people (not the system user);
    the service still refuses an owner outside the actor's scope."""
    return (User.objects.filter(is_active=True).exclude(username="system")
            .select_related("team").order_by("team__name", "username"))


def team_list() -> list[Team]:
    return reference.read("teams")["teams"]


def audit_list(*, actor: Actor, model: str = "", user: str = "", cursor: str | None = None,
               limit: int = 50) -> Page[AuditRecord]:
    """The whole audit trail: administrators only (others see it on each object's timeline)."""
    require_admin(actor)
    qs: QuerySet = AuditRecord.objects.all()
    if model:
        qs = qs.filter(model=model)
    if user:
        qs = qs.filter(actor_label=user)
    return paginate(qs, Sort("id", True), cursor=cursor, limit=limit)


def require_admin(actor: Actor) -> None:
    role = actor.user.role
    if not (role and role.is_admin and actor.user.is_active):
        raise PermissionDenied("Administrators only.")


def custom_field_list(*, model: str = "customers.customer") -> list[CustomField]:
    return list(CustomField.objects.filter(model=model))


def custom_field_get(*, field_id: int) -> CustomField:
    try:
        return CustomField.objects.get(pk=field_id)
    except (CustomField.DoesNotExist, ValueError):
        raise NotFound("custom field not found") from None


def saved_views(*, actor: Actor, list_name: str, cached: list[SavedView] | None = None
                ) -> list[SavedView]:
    """The views of ``list_name`` the actor keeps or anyone shares (``cached``: every saved
    view, as ``reference.read("saved_views")`` gives them)."""
    rows = reference.read("saved_views")["saved_views"] if cached is None else cached
    return [v for v in rows if v.list_name == list_name
            and (v.shared or v.user_id == actor.user.pk)]


def recent_login_failures(*, username: str, address: str, since) -> tuple[int, int]:
    by_user = LoginFailure.objects.filter(username=username.lower(), at__gte=since).count()
    by_addr = LoginFailure.objects.filter(address=address, at__gte=since).count()
    return by_user, by_addr


def user_list(*, actor: Actor) -> list[User]:
    require_admin(actor)
    return list(User.objects.exclude(username="system").select_related("role", "team")
                .order_by("username"))


def user_by_id(*, actor: Actor, user_id: int) -> User:
    require_admin(actor)
    try:
        return User.objects.exclude(username="system").get(pk=user_id)
    except (User.DoesNotExist, ValueError):
        raise NotFound("user not found") from None


def role_list() -> QuerySet:
    from guanxi.core.models import Role

    return Role.objects.exclude(code="system")


def team_queryset() -> QuerySet:
    return Team.objects.all()


def signed_in_user(user_id):
    """The session's user with role and team (what every request asks of them), or None."""
    return User.objects.select_related("role", "team").filter(pk=user_id).first()
