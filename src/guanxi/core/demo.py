"""Demo users and teams. ``guanxi demo`` calls each app's demo in order; later apps add theirs."""

from __future__ import annotations

from django.db import transaction

DEMO_PASSWORD = "guanxi-demo"
# username: (role, team code, name)
DEMO_USERS = {
    "admin": ("admin", None, "管理员 Admin"),
    "manager": ("manager", "east", "周经理"),
    "sales1": ("sales", "east", "李销售"),
    "sales2": ("sales", "north", "王销售"),
    "service1": ("service", None, "陈客服"),
    "marketing1": ("marketing", None, "赵市场"),
    "analyst1": ("analyst", None, "孙分析"),
}
TEAMS = {"east": "华东 East", "north": "华北 North"}


def ensure_users() -> dict[str, object]:
    """Create the demo teams and users (idempotent). Returns users by username."""
    from guanxi.core.models import Role, Team, User

    with transaction.atomic():
        teams = {code: Team.objects.get_or_create(code=code, defaults={"name": name})[0]
                 for code, name in TEAMS.items()}
        users = {}
        for username, (role_code, team_code, name) in DEMO_USERS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=name,
                            email=f"{username}@guanxi.example")
                user.set_password(DEMO_PASSWORD)
            user.role = Role.objects.get(code=role_code)
            user.team = teams.get(team_code) if team_code else None
            user.is_active = True
            user.save()
            users[username] = user
    return users
