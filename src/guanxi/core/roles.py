"""The roles Guanxi ships with, as data. Administrators may change grants afterwards; this
table only seeds a new installation (and the demo). docs/permissions.md describes them."""

from __future__ import annotations

CUSTOMER = "customers.customer"

# role code: (English name, Chinese name, can_see_pii, is_admin, {action: (scope, readonly)})
ROLES: dict[str, tuple[str, str, bool, bool, dict[str, tuple[str, list[str]]]]] = {
    "admin": ("Administrator", "管理员", True, True, {
        "view": ("all", []), "add": ("all", []), "change": ("all", []),
        "delete": ("all", []), "export": ("all", []),
    }),
    "manager": ("Sales manager", "销售经理", True, False, {
        "view": ("team", []), "add": ("team", []), "change": ("team", []),
        "delete": ("team", []), "export": ("team", []),
    }),
    "sales": ("Sales representative", "销售代表", True, False, {
        "view": ("team", []), "add": ("own", []), "change": ("own", ["owner", "team"]),
        "export": ("own", []),
    }),
    "service": ("Service agent", "客服专员", True, False, {
        "view": ("all", []), "change": ("all", ["owner", "team", "kind"]),
    }),
    "marketing": ("Marketer", "市场专员", False, False, {
        "view": ("all", []), "add": ("own", []), "export": ("all", []),
    }),
    "analyst": ("Analyst", "数据分析师", False, False, {
        "view": ("all", []), "export": ("all", []),
    }),
    "readonly": ("Read-only", "只读用户", False, False, {
        "view": ("team", []),
    }),
    "system": ("System", "系统", True, True, {
        "view": ("all", []), "add": ("all", []), "change": ("all", []),
        "delete": ("all", []), "export": ("all", []),
    }),
}


def ensure_default_roles(Role, Grant, User) -> None:  # noqa: N803 (model classes)
    """Create the shipped roles, their grants and the ``system`` user if missing."""
    for code, (name, _zh, pii, is_admin, grants) in ROLES.items():
        role, _ = Role.objects.get_or_create(
            code=code, defaults={"name": name, "can_see_pii": pii, "is_admin": is_admin}
        )
        for action, (scope, readonly) in grants.items():
            Grant.objects.get_or_create(
                role=role, model=CUSTOMER, action=action,
                defaults={"scope": scope, "readonly_fields": readonly},
            )
    system_role = Role.objects.get(code="system")
    if not User.objects.filter(username="system").exists():
        User.objects.create(username="system", first_name="System", role=system_role,
                            is_active=True, password="!")
