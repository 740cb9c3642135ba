"""Render docs/permissions.md from the shipped roles and the permission matrix:
``python -m guanxi.core.permissions_doc > docs/permissions.md``.

The roles and grants come from ``core/roles.py``, the personal-data fields from each model's
``pii_fields``, the paths from the matrix rows each app's ``tests/test_access.py`` registers
(``guanxi.core.testing``). A test fails when the file differs from what this prints.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from urllib.parse import unquote

COMMAND = "python -m guanxi.core.permissions_doc > docs/permissions.md"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    os.environ.setdefault("GUANXI_DEV", "1")
    import django

    django.setup()


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def _model_name(label: str) -> str:
    from django.apps import apps

    try:
        return str(apps.get_model(label)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return label


def _roles() -> list[str]:
    from guanxi.core.roles import ROLES

    rows = []
    for code, (name, zh, pii, admin, _grants, _readonly) in ROLES.items():
        rows.append([f"`{code}`", name, zh, "yes" if pii else "masked",
                     "yes" if admin else "no"])
    return _table(["role", "name", "中文", "personal data", "administers users and settings"],
                  rows)


class _Rows:
    """Stands in for a model's manager while ``ensure_default_roles`` runs, keeping the rows
    it would create, so the tables show exactly what a new installation is seeded with."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def get_or_create(self, defaults: dict | None = None, **keys):
        row = {**keys, **(defaults or {})}
        self.rows.append(row)
        return row, True

    def get(self, **keys) -> dict:
        return next(r for r in self.rows if all(r.get(k) == v for k, v in keys.items()))

    def filter(self, **keys) -> SimpleNamespace:
        found = any(all(r.get(k) == v for k, v in keys.items()) for r in self.rows)
        return SimpleNamespace(exists=lambda: found)

    def create(self, **fields) -> dict:
        self.rows.append(fields)
        return fields


def seeded_grants() -> dict[str, dict[str, dict[str, tuple[str, list[str]]]]]:
    """model → role code → action → (scope, read-only fields), as seeded."""
    from guanxi.core.roles import ensure_default_roles

    grants = _Rows()
    ensure_default_roles(SimpleNamespace(objects=_Rows()), SimpleNamespace(objects=grants),
                         SimpleNamespace(objects=_Rows()))
    out: dict[str, dict[str, dict[str, tuple[str, list[str]]]]] = {}
    for g in grants.rows:
        out.setdefault(g["model"], {}).setdefault(g["role"]["code"], {})[g["action"]] = (
            g["scope"], list(g["readonly_fields"]))
    return out


def _readonly(actions: dict[str, tuple[str, list[str]]]) -> str:
    by_fields: dict[tuple[str, ...], list[str]] = {}
    for action, (_scope, fields) in actions.items():
        if fields:
            by_fields.setdefault(tuple(fields), []).append(action)
    return "; ".join(", ".join(f"`{f}`" for f in fields) + " on " + ", ".join(acts)
                     for fields, acts in by_fields.items()) or "—"


def _grants() -> list[str]:
    from guanxi.core.access import ACTIONS
    from guanxi.core.roles import ROLES

    out: list[str] = []
    for model, by_role in seeded_grants().items():
        actions = [a for a in ACTIONS if any(a in acts for acts in by_role.values())]
        rows = []
        for code in ROLES:
            acts = by_role.get(code, {})
            rows.append([f"`{code}`", *[acts[a][0] if a in acts else "—" for a in actions],
                         _readonly(acts)])
        out += [f"### {_model_name(model).capitalize()} (`{model}`)", ""]
        out += _table(["role", *[f"`{a}`" for a in actions], "read-only fields"], rows)
        out.append("")
    return out


def _masking() -> list[str]:
    from django.apps import apps

    from guanxi.core.access import mask_value

    samples = {"phone": "13812345678", "email": "zhangsan@example.com",
               "id": "110101199003071234", "street": "中关村大街1号", "handle": "wxid_abc123"}
    rows = []
    for model in apps.get_models():
        fields = getattr(model, "pii_fields", None)
        if fields is None or not model.__module__.startswith("guanxi."):
            continue
        label = f"{str(model._meta.verbose_name).capitalize()} (`{model._meta.label_lower}`)"
        if callable(fields):  # per kind, e.g. a contact point masks by what it holds
            kinds = model._meta.get_field("kind").choices
            by_kind: dict[str, list[str]] = {}
            for value, text in kinds:
                for field, kind in fields(model(kind=value)).items():
                    by_kind.setdefault(f"`{field}` as {kind}", []).append(str(text))
            for what, texts in by_kind.items():
                rows.append([label, f"{what} ({', '.join(texts)})"])
        else:
            for field, kind in fields.items():
                rows.append([label, f"`{field}` as {kind}"])
    examples = [[kind, f"`{value}`", f"`{mask_value(value, kind)}`"]
                for kind, value in samples.items()]
    examples.append(["date", "`1990-03-07`", "not shown"])
    return [*_table(["object", "masked field"], rows), "", "Masks:", "",
            *_table(["kind", "value", "shown to a masked role"], examples)]


def _paths() -> list[str]:
    from guanxi.core.testing import CHECKS, matrix_routes

    out: list[str] = []
    for app, routes in sorted(matrix_routes().items()):
        out += [f"### {app}", ""]
        pages = [[r.method, f"`{r.url}{unquote(r.query)}`", f"`{r.key}`", CHECKS[r.check],
                  str(r.ok)] for r in routes if not r.api]
        api = [[r.method, f"`{r.url}{unquote(r.query)}`", CHECKS[r.check], str(r.ok)]
               for r in routes if r.api]
        if pages:
            out += ["Pages (signed-in session):", ""]
            out += _table(["method", "path", "route", "decided by", "success"], pages)
            out.append("")
        if api:
            out += ["API (token or session):", ""]
            out += _table(["method", "path", "decided by", "success"], api)
            out.append("")
    return out


def _public() -> list[str]:
    from guanxi.core.testing import PUBLIC_ROUTES

    return [f"- `{name}`: {why}" for name, why in PUBLIC_ROUTES.items()]


def render() -> str:
    _setup()
    from guanxi.core.testing import ANONYMOUS

    lines = [
        "# Permissions",
        "",
        f"<!-- Generated by `{COMMAND}` from the shipped roles (core/roles.py) and the"
        " permission matrix (each app's tests/test_access.py); a test fails when it drifts."
        " -->",
        "",
        "One policy, `guanxi.core.access.AccessPolicy`, decides what a user may see and"
        " change. Every read starts from `policy.scope(...)` in an app's `queries.py`, every"
        " write calls `policy.require(...)` in its `services.py`; pages, the API, search,"
        " autocomplete, exports and background jobs use those functions and nothing else.",
        "",
        "## The rules",
        "",
        "- A **grant** gives a role an action (`view`, `add`, `change`, `delete`, `export`,"
        " `approve`) on a kind of object within a **scope**:",
        "  - `own`: objects the user owns;",
        "  - `team`: objects that belong to the user's team (a user without a team gets"
        " `own`);",
        "  - `all`: every object;",
        "  - no grant (`—`) is `none`: nothing.",
        "- An object's details (contact points, addresses, contacts, consents, custom values)"
        " follow the grants on their customer.",
        "- Every action also needs `view`: a list, a search, an autocomplete and a count hold"
        " exactly the objects in the `view` scope; an export holds those also in the"
        " `export` scope.",
        "- **404, not 403**: an object outside the `view` scope answers 404, exactly like one"
        " that does not exist, for reads and writes alike. An object in the `view` scope"
        " without the action answers 403.",
        "- **Read-only fields** may not be written even where the role may otherwise change"
        " the object (a sales representative cannot give a customer away).",
        "- **Personal data** is masked for roles without the personal-data permission, the"
        " same way in pages, JSON, CSV and the timeline; a masked object cannot be saved.",
        "- No superuser short cut and no exemption setting: `is_superuser` changes nothing,"
        " `all` is an ordinary grant. A deactivated user reaches nothing (pages send to"
        " sign-in, the API answers 401, tokens included). Work for nobody in particular runs"
        " as the audited `system` user with its own grants.",
        "- Administrators may change grants after installation; the tables below are what a"
        " new installation ships.",
        "",
        "## Roles",
        "",
        *_roles(),
        "",
        "## Grants",
        "",
        *_grants(),
        "## Personal data",
        "",
        *_masking(),
        "",
        "## Paths covered by the permission matrix",
        "",
        "Each row below runs for a user of every shipped role but `system`, for a"
        f" deactivated user and for `{ANONYMOUS}`, on a customer of the user's own, of a"
        " teammate and of another team,"
        " and is compared with the grants above: status (404 outside scope, 403 in scope"
        " without the action), the exact set of customers a list shows, the audit record a"
        " successful write leaves (and a refused one does not), and masked personal data."
        " A route without a row fails the route-coverage test.",
        "",
        *_paths(),
        "Public routes, the only ones exempt from the matrix:",
        "",
        *_public(),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
