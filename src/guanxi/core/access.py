"""The one access policy: who may see and change what, and which personal data is masked.

Every read in ``<app>/queries.py`` starts from :meth:`AccessPolicy.scope`; every write in
``<app>/services.py`` calls :meth:`AccessPolicy.require`. No other module decides access, and
there is no superuser short cut: ``all`` is an ordinary grant (see docs/permissions.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet

from guanxi.core.exceptions import NotFound, PermissionDenied

if TYPE_CHECKING:
    from guanxi.core.models import User

SCOPES = ("none", "own", "team", "all")
ACTIONS = ("view", "add", "change", "delete", "export", "approve")
CHANNELS = ("web", "api", "cli", "import", "task", "system")


@dataclass(frozen=True)
class AccessPath:
    """How rows of a model reach an owner and a team, as ORM paths.

    ``grants_from`` names the model whose grants apply (a contact point is governed by the
    grants on its customer).
    """

    owner: str
    team: str
    grants_from: str | None = None


@dataclass
class Actor:
    """Who acts: a user, through a channel, within a request."""

    user: User
    channel: str = "web"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    _grants: dict[tuple[str, str], Any] | None = field(default=None, repr=False)
    # Rows this actor was just shown (model label, pk): the customer page's cards need not
    # each ask again whether the customer is visible. Any write by the actor empties it
    # (core/audit.py), so a reassignment is seen by the next read.
    _seen: set[tuple[str, int]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")

    @property
    def label(self) -> str:
        return self.user.username

    @classmethod
    def system(cls, channel: str = "system") -> Actor:
        from guanxi.core.queries import system_user

        return cls(user=system_user(), channel=channel)

    def saw(self, label: str, pk: int) -> None:
        if len(self._seen) < 256:  # long-lived actors (jobs) keep no large memory
            self._seen.add((label, pk))

    def has_seen(self, label: str, pk: int) -> bool:
        return (label, pk) in self._seen

    def forget_seen(self) -> None:
        self._seen.clear()

    def grants(self) -> dict[tuple[str, str], Any]:
        """The user's grants by (model, action), read once per actor (one request)."""
        if self._grants is None:
            from guanxi.core.queries import grants_of_role

            self._grants = grants_of_role(self.user.role_id) if self.user.is_active else {}
        return self._grants


SYSTEM_USERNAME = "system"


def model_label(model: type[Model] | Model) -> str:
    return model._meta.label_lower


def _path_for(model: type[Model]) -> AccessPath:
    path = getattr(model, "access", None)
    if not isinstance(path, AccessPath):
        raise ImproperlyConfigured(f"{model_label(model)} declares no AccessPath")
    return path


def _resolve(obj: Model, path: str) -> Any:
    """Follow an ORM path (``customer__owner``) on an instance and return the id at its end."""
    parts = path.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part)
        if obj is None:
            return None
    return getattr(obj, parts[-1] + "_id", None) if hasattr(obj, parts[-1] + "_id") \
        else getattr(obj, parts[-1])


class AccessPolicy:
    """The decisions. One instance, :data:`policy`, serves the whole program."""

    def grant(self, actor: Actor, model: type[Model] | Model, action: str):
        path = _path_for(model if isinstance(model, type) else type(model))
        label = path.grants_from or model_label(model)
        return actor.grants().get((label, action))

    def scope_name(self, actor: Actor, model: type[Model] | Model, action: str) -> str:
        g = self.grant(actor, model, action)
        return g.scope if g else "none"

    def can(self, actor: Actor, model: type[Model] | Model, action: str) -> bool:
        return self.scope_name(actor, model, action) != "none"

    def scope(self, qs: QuerySet, actor: Actor, action: str = "view") -> QuerySet:
        """Narrow ``qs`` to the rows ``actor`` may ``action``; the filter runs in SQL."""
        path = _path_for(qs.model)
        scope = self.scope_name(actor, qs.model, action)
        if scope == "all":
            return qs
        if scope == "team" and actor.user.team_id is not None:
            return qs.filter(**{path.team: actor.user.team_id})
        if scope in ("own", "team"):
            return qs.filter(**{path.owner: actor.user.pk})
        return qs.none()

    def allows(self, actor: Actor, action: str, obj: Model) -> bool:
        """Whether ``obj`` lies inside the actor's scope for ``action`` (checked in Python)."""
        path = _path_for(type(obj))
        scope = self.scope_name(actor, obj, action)
        if scope == "all":
            return True
        if scope == "team" and actor.user.team_id is not None:
            return _resolve(obj, path.team) == actor.user.team_id
        if scope in ("own", "team"):
            return _resolve(obj, path.owner) == actor.user.pk
        return False

    def require(self, actor: Actor, action: str, obj: Model) -> None:
        """Raise :class:`NotFound` when ``obj`` is invisible, :class:`PermissionDenied` when
        it is visible but ``action`` is not allowed on it."""
        if not self.allows(actor, "view", obj):
            raise NotFound(f"{type(obj)._meta.verbose_name} not found")
        if action != "view" and not self.allows(actor, action, obj):
            raise PermissionDenied(f"You may not {action} this {type(obj)._meta.verbose_name}.")

    def require_model(self, actor: Actor, model: type[Model], action: str) -> None:
        if not self.can(actor, model, action):
            raise PermissionDenied(f"You may not {action} {model._meta.verbose_name_plural}.")

    def writable_fields(self, actor: Actor, model: type[Model], action: str = "change"
                        ) -> set[str]:
        g = self.grant(actor, model, action)
        if g is None or g.scope == "none":
            return set()
        names = {f.name for f in model._meta.get_fields()
                 if getattr(f, "editable", False) and not f.auto_created}
        return names - set(g.readonly_fields or [])

    def sees_pii(self, actor: Actor) -> bool:
        role = actor.user.role
        return bool(role and role.can_see_pii and actor.user.is_active)

    def mask(self, actor: Actor, objs):
        """Replace personal data on ``objs`` with masked values and mark them read-only.

        A model lists its personal fields in ``pii_fields`` ({field: kind}); a masked
        instance refuses ``save()``. Returns ``objs``.
        """
        if self.sees_pii(actor):
            return objs
        single = isinstance(objs, Model)
        for obj in [objs] if single else objs:
            mask_instance(obj)
        return objs


def mask_instance(obj: Model) -> None:
    kinds = getattr(obj, "pii_fields", None)
    if callable(kinds):
        kinds = kinds()
    for name, kind in (kinds or {}).items():
        value = getattr(obj, name, None)
        if value and kind == "date":
            setattr(obj, name, None)
        elif value:
            setattr(obj, name, mask_value(str(value), kind))
    obj._masked = True


def mask_value(value: str, kind: str) -> str:
    """``13812345678`` → ``138****5678``; ``zhang@example.com`` → ``z***@example.com``."""
    if kind == "phone":
        digits = value.replace(" ", "")
        if len(digits) >= 7:
            return digits[:3] + "****" + digits[-4:]
        return "****"
    if kind == "email":
        local, _, domain = value.partition("@")
        return (local[:1] + "***@" + domain) if domain else "***"
    if kind == "id":
        if len(value) > 7:
            return value[:3] + "*" * (len(value) - 7) + value[-4:]
        return "****"
    return value[:1] + "***" if value else value


policy = AccessPolicy()


def check_routed_models() -> None:
    """Startup check: every model of Guanxi's business apps declares an AccessPath (or is
    explicitly infrastructure with ``access_exempt = True``)."""
    for model in apps.get_models():
        if not model.__module__.startswith("guanxi.") or model.__module__.startswith(
            "guanxi.core."
        ):
            continue
        if getattr(model, "access_exempt", False):
            continue
        _path_for(model)
