"""Test helpers: users per role and team, actors, and the permission matrix (rows, the
registry of covered routes, a plain-Python reading of the shipped grants, the runner)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.db import transaction

from guanxi.core.access import Actor
from guanxi.core.models import Role, Team, User
from guanxi.core.roles import CUSTOMER, ROLES


def team(code: str) -> Team:
    return Team.objects.get_or_create(code=code, defaults={"name": code.title()})[0]


def user(username: str, role: str, team_code: str | None = None,
         password: str = "pw-Guanxi-123") -> User:
    u = User(username=username, role=Role.objects.get(code=role),
             team=team(team_code) if team_code else None)
    u.set_password(password)
    u.save()
    return u


def actor(u: User, channel: str = "web") -> Actor:
    return Actor(user=User.objects.select_related("role").get(pk=u.pk), channel=channel)


#: The people of the matrix: (role, team) per username, as the ``users`` fixture has them.
SHIPPED_USERS = {
    "sales1": ("sales", "east"), "sales1b": ("sales", "east"), "sales2": ("sales", "north"),
    "manager": ("manager", "east"), "service": ("service", None),
    "analyst": ("analyst", None), "readonly": ("readonly", "east"),
    "marketing": ("marketing", None), "admin": ("admin", None),
}


def shipped_users() -> dict[str, User]:
    """The shipped roles and one user per row of :data:`SHIPPED_USERS`."""
    from guanxi.core.models import Grant
    from guanxi.core.roles import ensure_default_roles

    ensure_default_roles(Role, Grant, User)
    return {name: user(name, role, team_code)
            for name, (role, team_code) in SHIPPED_USERS.items()}


# The permission matrix ------------------------------------------------------------------
#
# Each app's ``tests/test_access.py`` declares its routes as :class:`Route` rows and registers
# them here; the matrix test runs every row for every actor and object and compares the answer
# with a plain-Python reading of the shipped grants (``core/roles.py``), never with the policy
# itself. ``core/tests/test_access_coverage.py`` fails when a URL pattern or API operation has
# no row, and ``core/permissions_doc.py`` renders docs/permissions.md from the same rows.

def matrix_modules() -> list[str]:
    """Modules that hold matrix rows: ``<app>/tests/test_access.py`` of each Guanxi app."""
    from importlib.util import find_spec

    from django.apps import apps

    out = []
    for config in apps.get_app_configs():
        if config.name.startswith("guanxi.") and find_spec(f"{config.name}.tests") is not None:
            name = f"{config.name}.tests.test_access"
            if find_spec(name) is not None:
                out.append(name)
    return out


#: Routes anyone may reach without signing in; nothing else is exempt from the matrix.
PUBLIC_ROUTES = {
    "login": "sign-in form",
    "logout": "sign-out",
    "healthz": "load-balancer health check, reads no data",
    "set_language": "interface language cookie",
    "lead_web_form": "the public lead form for embedding; it only creates an unowned lead",
    "ical_feed": "a user's calendar feed; the secret, revocable key in the URL is the credential",
    "api:openapi-json": "OpenAPI document (the API's shape, no data)",
    "api:openapi-view": "interactive API documentation",
    "api:api-root": "always answers 404",
}

ANONYMOUS = "anonymous"

#: What a route checks (``Route.check``), in the words docs/permissions.md uses.
CHECKS = {
    "view": "`view` on the object",
    "change": "`change` on the object",
    "delete": "`delete` on the object",
    "list": "`view` scope: the list holds exactly the objects in scope",
    "export": "`export` grant; rows in the `view` and `export` scopes",
    "add": "`add` grant; the new object must lie in the `add` scope",
    "reassign": "`change` with `owner` writable, then `change` on each object",
    "signed-in": "any signed-in user",
    "own-view": "any signed-in user, on their own saved views only",
    "admin": "administrators (role flag `is_admin`)",
    "change-all": "`change` with scope `all` (service desk, administrators)",
    "approve": "`approve` on the object",
    "refresh": "roles admin, manager and analyst (a role check, no grant)",
    "starter": "the user who started the job, and administrators",
}

#: Roles that may start an analytics refresh (check ``"refresh"``).
REFRESH_ROLES = ("admin", "manager", "analyst")


@dataclass(frozen=True)
class Route:
    """One URL the program serves, as a matrix row.

    ``key`` is the URL name of a page or ``"METHOD /api/v1/path"`` of an API operation.
    ``check`` is a key of :data:`CHECKS`, decided on ``model``'s grants. ``target``:
    ``"object"`` runs the row once per object (mine, teammate's, other team's); ``"list"``
    compares the set of objects shown with the in-scope set; ``"none"`` runs once per actor.
    ``ok`` is the status of a success; ``writes`` says that a success leaves an audit record
    (and a refusal none); ``pii`` says the answer shows the objects' personal data.
    """

    key: str
    method: str
    url: str
    check: str
    target: str = "object"
    ok: int = 200
    body: Any = None
    writes: bool = False
    pii: bool = False
    query: str = ""
    model: str = CUSTOMER

    @property
    def api(self) -> bool:
        return self.url.startswith("/api/")

    def __str__(self) -> str:
        return self.key if self.api else f"{self.method} {self.key}"


_REGISTRY: dict[str, list[Route]] = {}


def register(app: str, routes: Iterable[Route]) -> list[Route]:
    """Record an app's matrix rows (idempotent: a re-import replaces them)."""
    rows = list(routes)
    unknown = sorted({r.check for r in rows} - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown checks {unknown}")
    _REGISTRY[app] = rows
    return rows


def matrix_routes() -> dict[str, list[Route]]:
    """Every app's matrix rows, importing the modules that declare them."""
    for name in matrix_modules():
        import_module(name)
    return dict(_REGISTRY)


#: Routes whose access rule the shared vocabulary cannot express, each proven by a named,
#: dedicated test in the same ``tests/test_access.py`` (key → test function name).
_DEDICATED: dict[str, dict[str, str]] = {}


def covered_by_test(app: str, keys: Iterable[str], test: str) -> None:
    """Record routes that a dedicated access test (``test``) proves instead of matrix rows."""
    _DEDICATED.setdefault(app, {}).update({key: test for key in keys})


def covered_keys() -> set[str]:
    rows = {r.key for rows in matrix_routes().values() for r in rows}
    return rows | {key for keys in _DEDICATED.values() for key in keys}


# A plain-Python reading of the shipped grants (the oracle) -------------------------------

@dataclass(frozen=True)
class Who:
    """An actor as the oracle sees it."""

    name: str
    pk: int | None = None
    team_id: int | None = None
    role: str | None = None
    active: bool = True

    @property
    def signed_in(self) -> bool:
        return self.name != ANONYMOUS and self.active and self.pk is not None

    @classmethod
    def of(cls, name: str, u: User | None) -> Who:
        if u is None:
            return cls(name=name)
        return cls(name=name, pk=u.pk, team_id=u.team_id,
                   role=u.role.code if u.role_id else None, active=u.is_active)


@dataclass(frozen=True)
class Owned:
    """An object as the oracle sees it: who owns it, which team it belongs to, whose grants
    govern it."""

    name: str
    owner_id: int
    team_id: int | None
    pk: int = 0
    model: str = CUSTOMER


def grant_scope(role: str | None, action: str, model: str = CUSTOMER) -> str:
    """The shipped scope of ``role`` for ``action`` on ``model`` ("none" without a grant)."""
    if role is None:
        return "none"
    return ROLES[role][4].get(model, {}).get(action, "none")


def readonly_fields(role: str | None, model: str = CUSTOMER) -> list[str]:
    """Fields ``role`` may not change on ``model`` (seeded on ``change``)."""
    return [] if role is None else list(ROLES[role][5].get(model, []))


def role_sees_pii(role: str | None) -> bool:
    return bool(role) and ROLES[role][2]


def role_is_admin(role: str | None) -> bool:
    return bool(role) and ROLES[role][3]


def within(who: Who, scope: str, obj: Owned) -> bool:
    """own: the actor owns it; team: it belongs to the actor's team (own for an actor
    without a team); all: every object; none: nothing. Inactive users reach nothing."""
    if not who.signed_in or scope == "none":
        return False
    if scope == "all":
        return True
    if scope == "team" and who.team_id is not None:
        return obj.team_id == who.team_id
    return obj.owner_id == who.pk


def may(who: Who, action: str, obj: Owned) -> bool:
    return within(who, grant_scope(who.role, action, obj.model), obj)


def in_scope(who: Who, objs: Iterable[Owned], *actions: str) -> set[str]:
    """Names of the objects inside every one of ``actions``' scopes."""
    return {o.name for o in objs if all(may(who, a, o) for a in actions or ("view",))}


def object_status(who: Who, action: str, obj: Owned, ok: int) -> int:
    """404 outside the view scope; 403 in view scope without ``action``; else ``ok``."""
    if not may(who, "view", obj):
        return 404
    if action != "view" and not may(who, action, obj):
        return 403
    return ok


def gate_status(who: Who, check: str, ok: int, model: str = CUSTOMER) -> int:
    """The status of a route that checks no particular object."""
    if check in ("signed-in", "list"):
        return ok
    if check in ("own-view", "starter"):
        raise ValueError(f"a {check} row needs an expect function that knows the owner")
    if check == "refresh":
        return ok if who.role in REFRESH_ROLES else 403
    if check == "admin":
        return ok if role_is_admin(who.role) else 403
    if check == "change-all":
        return ok if grant_scope(who.role, "change", model) == "all" else 403
    if check == "reassign":
        allowed = (grant_scope(who.role, "change", model) != "none"
                   and "owner" not in readonly_fields(who.role, model))
        return ok if allowed else 403
    return ok if grant_scope(who.role, check, model) != "none" else 403


def unauthenticated_status(route: Route) -> int:
    """Anonymous (or deactivated) callers: the API answers 401, pages send to sign-in."""
    return 401 if route.api else 302


def expected_status(route: Route, who: Who, obj: Owned | None) -> int:
    """The answer the grants call for: see :func:`object_status` and :func:`gate_status`."""
    if not who.signed_in:
        return unauthenticated_status(route)
    if route.check == "reassign":
        gate = gate_status(who, "reassign", route.ok, route.model)
        if gate != route.ok or obj is None:
            return gate
        return object_status(who, "change", obj, route.ok)
    if obj is not None:
        return object_status(who, route.check, obj, route.ok)
    return gate_status(who, route.check, route.ok, route.model)


# Running a row ---------------------------------------------------------------------------

@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """Run a request inside a savepoint that is rolled back, so each cell starts from the
    same data (a delete by one actor does not hide the customer from the next)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def text_of(response) -> str:
    """The body as text; JSON is re-encoded without \\u escapes so Chinese and masked
    values compare as written."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    text = raw.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json") and text:
        with contextlib.suppress(ValueError):
            return json.dumps(json.loads(text), ensure_ascii=False)
    return text


#: Unmasked personal data in test answers: a mainland mobile number (any separators), an
#: example.com address with more than its first letter shown, an 18-character ID number.
RAW_PII = re.compile(
    r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)|[A-Za-z0-9._-]{2,}@example\.com|\d{17}[\dX]")


@dataclass
class Cell:
    route: Route
    actor: str
    obj: str | None
    expected: Any
    got: Any
    what: str = "status"

    def __str__(self) -> str:
        where = f" on {self.obj}" if self.obj else ""
        return (f"{self.route} as {self.actor}{where}: {self.what} expected {self.expected!r}, "
                f"got {self.got!r}")


@dataclass
class MatrixRun:
    """Collects every wrong cell of a row, so one failure lists them all."""

    route: Route
    cells: list[Cell] = field(default_factory=list)
    runs: int = 0

    def expect(self, actor: str, obj: str | None, what: str, expected: Any, got: Any) -> None:
        if expected != got:
            self.cells.append(Cell(self.route, actor, obj, expected, got, what))

    def check(self) -> None:
        assert self.runs, f"{self.route}: no cell ran"
        assert not self.cells, f"{len(self.cells)} wrong cells:\n" + "\n".join(
            str(c) for c in self.cells)


def run_matrix(route: Route, actors: dict[str, Who], objects: dict[str, Owned], *,
               call: Callable[[Route, str, Owned | None], Any],
               expect: Callable[[Route, Who, Owned | None], int] | None = None,
               inspect: Callable[[MatrixRun, Who, Owned | None, Any], None] | None = None,
               audit_count: Callable[[], int] | None = None) -> MatrixRun:
    """Run ``route`` for every actor (and every object when ``route.target`` is
    ``"object"``), each request in a rolled-back savepoint, and compare the status with the
    oracle, :func:`expected_status` (or ``expect``). ``inspect`` looks further at each
    successful answer (sets shown, masking); ``audit_count`` proves that a write succeeded
    or left no trace."""
    run = MatrixRun(route)
    targets: list[Owned | None] = (list(objects.values()) if route.target == "object"
                                   else [None])
    for name, who in actors.items():
        for obj in targets:
            if not who.signed_in:
                expected = unauthenticated_status(route)
            else:
                expected = (expect or expected_status)(route, who, obj)
            with rolled_back():
                before = audit_count() if audit_count else 0
                response = call(route, name, obj)
                run.runs += 1
                label = obj.name if obj else None
                run.expect(name, label, "status", expected, response.status_code)
                if not who.signed_in and not route.api and response.status_code == 302:
                    run.expect(name, label, "redirect", True,
                               response["Location"].startswith("/login/"))
                if route.writes and audit_count is not None:
                    succeeded = who.signed_in and expected == route.ok
                    run.expect(name, label, "audit record written", succeeded,
                               audit_count() > before)
                if inspect is not None and response.status_code == expected == route.ok:
                    inspect(run, who, obj, response)
    return run
