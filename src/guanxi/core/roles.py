"""The roles Guanxi ships with, as data. Administrators may change grants afterwards; this
table only seeds a new installation (and the demo). docs/permissions.md describes them."""

from __future__ import annotations

CUSTOMER = "customers.customer"
LEAD = "sales.lead"
OPPORTUNITY = "sales.opportunity"
QUOTE = "sales.quote"
ORDER = "sales.order"

ALL = {"view": "all", "add": "all", "change": "all", "delete": "all", "export": "all"}
TEAM = {"view": "team", "add": "team", "change": "team", "delete": "team", "export": "team"}

# role code: (English name, Chinese name, can_see_pii, is_admin,
#             {model: {action: scope}}, {model: fields read-only when changing})
ROLES: dict[str, tuple[str, str, bool, bool, dict[str, dict[str, str]], dict[str, list[str]]]] = {
    "admin": ("Administrator", "管理员", True, True, {
        CUSTOMER: ALL, LEAD: ALL, OPPORTUNITY: ALL, QUOTE: {**ALL, "approve": "all"},
        ORDER: ALL,
    }, {}),
    "manager": ("Sales manager", "销售经理", True, False, {
        CUSTOMER: TEAM, LEAD: TEAM, OPPORTUNITY: TEAM, QUOTE: {**TEAM, "approve": "team"},
        ORDER: TEAM,
    }, {}),
    "sales": ("Sales representative", "销售代表", True, False, {
        CUSTOMER: {"view": "team", "add": "own", "change": "own", "export": "own"},
        LEAD: {"view": "team", "add": "own", "change": "own"},
        OPPORTUNITY: {"view": "team", "add": "own", "change": "own", "export": "own"},
        QUOTE: {"view": "team", "add": "own", "change": "own"},
        ORDER: {"view": "team", "add": "own", "change": "own"},
    }, {CUSTOMER: ["owner", "team"], LEAD: ["owner", "team"], OPPORTUNITY: ["owner", "team"]}),
    "service": ("Service agent", "客服专员", True, False, {
        CUSTOMER: {"view": "all", "change": "all"},
        ORDER: {"view": "all"},
    }, {CUSTOMER: ["owner", "team", "kind"]}),
    "marketing": ("Marketer", "市场专员", False, False, {
        CUSTOMER: {"view": "all", "add": "own", "export": "all"},
        LEAD: {"view": "all", "add": "all", "export": "all"},
        ORDER: {"view": "all"},
    }, {}),
    "analyst": ("Analyst", "数据分析师", False, False, {
        CUSTOMER: {"view": "all", "export": "all"},
        LEAD: {"view": "all", "export": "all"},
        OPPORTUNITY: {"view": "all", "export": "all"},
        QUOTE: {"view": "all"},
        ORDER: {"view": "all", "export": "all"},
    }, {}),
    "readonly": ("Read-only", "只读用户", False, False, {
        CUSTOMER: {"view": "team"}, OPPORTUNITY: {"view": "team"}, ORDER: {"view": "team"},
    }, {}),
    "system": ("System", "系统", True, True, {
        CUSTOMER: ALL, LEAD: ALL, OPPORTUNITY: ALL, QUOTE: {**ALL, "approve": "all"},
        ORDER: ALL,
    }, {}),
}


def ensure_default_roles(Role, Grant, User) -> None:  # noqa: N803 (model classes)
    """Create the shipped roles, their grants and the ``system`` user where missing (existing
    grants are left as an administrator may have changed them)."""
    for code, (name, _zh, pii, is_admin, models, readonly) in ROLES.items():
        role, _ = Role.objects.get_or_create(
            code=code, defaults={"name": name, "can_see_pii": pii, "is_admin": is_admin}
        )
        for model, actions in models.items():
            for action, scope in actions.items():
                Grant.objects.get_or_create(
                    role=role, model=model, action=action,
                    defaults={"scope": scope, "readonly_fields":
                              readonly.get(model, []) if action == "change" else []},
                )
    system_role = Role.objects.get(code="system")
    if not User.objects.filter(username="system").exists():
        User.objects.create(username="system", first_name="System", role=system_role,
                            is_active=True, password="!")
