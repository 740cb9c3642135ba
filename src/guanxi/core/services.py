"""Helpers every app's services share: field assignment under the policy, validation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model

from guanxi.core.exceptions import PermissionDenied, ValidationError


def assign(obj: Model, changes: dict[str, Any], *, allowed: Iterable[str],
           writable: set[str]) -> list[str]:
    """Set ``changes`` on ``obj``. Unknown fields are a validation error naming them; fields
    the actor may not write are refused. Returns the names of the fields that changed."""
    allowed = set(allowed)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    refused = sorted(name for name in changes if name not in writable)
    changed: list[str] = []
    for name, value in changes.items():
        field = obj._meta.get_field(name)
        attname = field.attname
        if value is None and not field.null and isinstance(field.default, str):
            value = field.default
        if getattr(obj, attname) != value:
            if name in refused:
                raise PermissionDenied(f"You may not change the field {name}.")
            setattr(obj, attname, value)
            changed.append(name)
    return changed


def validate(obj: Model, *, exclude: Iterable[str] = ()) -> None:
    """``full_clean`` with errors keyed by field (coerces values to their field types)."""
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


def save_versioned(obj: Model, version: int, fields: Iterable[str], conflict: str) -> None:
    """Write ``fields`` of ``obj`` only if its row still has the ``version`` the user read,
    and count the version up; otherwise raise Conflict(``conflict``). The UPDATE filters on the
    version, so of two concurrent writers one loses even without row locks (SQLite)."""
    from django.db.models import F

    from guanxi.core.exceptions import Conflict

    meta = obj._meta
    values = {meta.get_field(f).attname: getattr(obj, meta.get_field(f).attname)
              for f in fields}
    updated = type(obj)._default_manager.filter(pk=obj.pk, version=version).update(
        version=F("version") + 1, **values)
    if updated != 1:
        raise Conflict(conflict)
    obj.version = version + 1


def merge_errors(*errors: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for err in errors:
        for key, msgs in err.items():
            out.setdefault(key, []).extend(msgs)
    return out


# Core writes -----------------------------------------------------------------------------

import re  # noqa: E402

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from guanxi.core import audit  # noqa: E402
from guanxi.core.access import Actor  # noqa: E402
from guanxi.core.exceptions import NotFound  # noqa: E402
from guanxi.core.models import (  # noqa: E402
    ApiToken,
    CustomField,
    FieldType,
    LoginFailure,
    SavedView,
    User,
)


def token_create(*, actor: Actor, user: User, name: str = "") -> str:
    """Issue an API token for ``user`` (oneself, or anyone for an administrator). Returns the
    key, which is shown once and stored only as a hash. Audit ``create``."""
    from guanxi.core.queries import require_admin

    if user.pk != actor.user.pk:
        require_admin(actor)
    key = ApiToken.new_key()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:10],
                                        key_hash=ApiToken.hash_key(key))
        audit.record(actor, token, "create", {}, {"user": user.username, "name": name,
                                                  "prefix": token.prefix})
    return key


def token_revoke(*, actor: Actor, token_id: int) -> None:
    with transaction.atomic():
        token = ApiToken.objects.filter(pk=token_id, user=actor.user,
                                        revoked_at__isnull=True).first()
        if token is None:
            raise NotFound("token not found")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, token, "update", changes={"revoked_at": [None, "now"]})


CUSTOM_FIELD_FIELDS = {"code", "label", "label_zh", "type", "choices", "required", "filterable",
                       "position"}


def _check_custom_field(cf: CustomField) -> None:
    errors: dict[str, list[str]] = {}
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", cf.code or ""):
        errors["code"] = ["Use lower-case letters, digits and _, starting with a letter."]
    if cf.type not in FieldType.values:
        errors["type"] = [f"Choose one of: {', '.join(FieldType.values)}."]
    if cf.type in ("choice", "multi"):
        choices = cf.choices if isinstance(cf.choices, list) else []
        cleaned = [str(c).strip() for c in choices if str(c).strip()]
        if not cleaned:
            errors["choices"] = ["Give at least one choice."]
        elif len(set(cleaned)) != len(cleaned):
            errors["choices"] = ["Choices must differ."]
        cf.choices = cleaned
    else:
        cf.choices = []
    if errors:
        raise ValidationError(errors)


def custom_field_create(*, actor: Actor, data: dict) -> CustomField:
    """Define a custom field (administrators). Audit ``create``."""
    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        cf = CustomField(model="customers.customer")
        assign(cf, data, allowed=CUSTOM_FIELD_FIELDS, writable=CUSTOM_FIELD_FIELDS)
        _check_custom_field(cf)
        validate(cf)
        if CustomField.objects.filter(model=cf.model, code=cf.code).exists():
            raise ValidationError({"code": ["A custom field with this code exists."]})
        cf.save()
        audit.record(actor, cf, "create", {}, audit.snapshot(cf, sorted(CUSTOM_FIELD_FIELDS)))
    return cf


def custom_field_update(*, actor: Actor, field_id: int, version: int, changes: dict
                        ) -> CustomField:
    from guanxi.core.exceptions import Conflict
    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        cf = CustomField.objects.select_for_update().filter(pk=field_id).first()
        if cf is None:
            raise NotFound("custom field not found")
        if cf.version != version:
            raise Conflict("This field was changed by someone else.",
                           current=audit.snapshot(cf, sorted(CUSTOM_FIELD_FIELDS)),
                           current_version=cf.version)
        before = audit.snapshot(cf, sorted(CUSTOM_FIELD_FIELDS))
        if "code" in changes and changes["code"] != cf.code:
            raise ValidationError({"code": ["The code cannot change once values exist."]})
        if "type" in changes and changes["type"] != cf.type:
            raise ValidationError({"type": ["The type cannot change once values exist."]})
        assign(cf, changes, allowed=CUSTOM_FIELD_FIELDS, writable=CUSTOM_FIELD_FIELDS)
        _check_custom_field(cf)
        validate(cf)
        cf.version += 1
        cf.save()
        audit.record(actor, cf, "update", before, audit.snapshot(cf, sorted(
            CUSTOM_FIELD_FIELDS)))
    return cf


def custom_field_delete(*, actor: Actor, field_id: int) -> None:
    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        cf = CustomField.objects.filter(pk=field_id).first()
        if cf is None:
            raise NotFound("custom field not found")
        audit.record(actor, cf, "delete", audit.snapshot(cf, sorted(CUSTOM_FIELD_FIELDS)), {})
        cf.delete()


def saved_view_save(*, actor: Actor, list_name: str, name: str, query: str,
                    shared: bool = False) -> SavedView:
    """Save (or overwrite, by name) the current list filters for the actor."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the view a name."]})
    with transaction.atomic():
        view, _ = SavedView.objects.update_or_create(
            user=actor.user, list_name=list_name, name=name[:100],
            defaults={"query": query[:2000], "shared": bool(shared)},
        )
    return view


def saved_view_delete(*, actor: Actor, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(pk=view_id, user=actor.user).delete()
    if not deleted:
        raise NotFound("saved view not found")


def user_set_language(*, user: User, language: str) -> None:
    if user.is_authenticated and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)


def login_failure_record(*, username: str, address: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], address=address[:45])
    LoginFailure.objects.filter(at__lt=timezone.now() - timezone.timedelta(days=7)).delete()


USER_FIELDS = {"username", "first_name", "last_name", "email", "role", "team", "is_active",
               "language"}


def user_create(*, actor: Actor, data: dict, password: str) -> User:
    """Add a user (administrators). The password is checked against the validators."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError

    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        user = User()
        assign(user, data, allowed=USER_FIELDS, writable=USER_FIELDS)
        if User.objects.filter(username__iexact=user.username).exists():
            raise ValidationError({"username": ["This username is taken."]})
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
        validate(user, exclude=["password"])
        user.save()
        audit.record(actor, user, "create", {}, audit.snapshot(user, sorted(USER_FIELDS)))
    return user


def user_update(*, actor: Actor, user_id: int, changes: dict, password: str | None = None
                ) -> User:
    """Change a user's name, role, team or active flag (administrators); deactivating a user
    keeps their history and their customers (reassign those on the customer list)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError

    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).exclude(
            username="system").first()
        if user is None:
            raise NotFound("user not found")
        before = audit.snapshot(user, sorted(USER_FIELDS))
        if user.pk == actor.user.pk and changes.get("is_active") is False:
            raise ValidationError({"is_active": ["You cannot deactivate yourself."]})
        assign(user, changes, allowed=USER_FIELDS - {"username"},
               writable=USER_FIELDS - {"username"})
        if password:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationError({"password": exc.messages}) from None
            user.set_password(password)
        validate(user, exclude=["password"])
        user.save()
        changes_made = audit.diff(before, audit.snapshot(user, sorted(USER_FIELDS)))
        if password:
            changes_made["password"] = ["***", "***"]
        audit.record(actor, user, "update", changes=changes_made)
    return user


def team_create(*, actor: Actor, code: str, name: str):
    from guanxi.core.models import Team
    from guanxi.core.queries import require_admin

    require_admin(actor)
    with transaction.atomic():
        team = Team(code=(code or "").strip(), name=(name or "").strip())
        validate(team)
        if Team.objects.filter(code=team.code).exists():
            raise ValidationError({"code": ["A team with this code exists."]})
        team.save()
        audit.record(actor, team, "create", {}, {"code": team.code, "name": team.name})
    return team
