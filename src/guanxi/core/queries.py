"""Reads of core objects: users, teams, tokens, the audit trail, custom fields, saved views."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

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


def grants_of_role(role_id: int | None) -> dict:
    from guanxi.core.models import Grant

    if not role_id:
        return {}
    return {(g.model, g.action): g for g in Grant.objects.filter(role_id=role_id)}


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
    return list(Team.objects.all())


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


def saved_views(*, actor: Actor, list_name: str) -> list[SavedView]:
    from django.db.models import Q

    return list(SavedView.objects.filter(Q(user=actor.user) | Q(shared=True),
                                         list_name=list_name))


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
