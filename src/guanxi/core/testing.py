"""Test helpers: users per role and team, actors, and the permission-matrix vocabulary."""

from __future__ import annotations

from guanxi.core.access import Actor
from guanxi.core.models import Role, Team, User


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
