"""The guanxi command: token, demo (idempotent), analytics help."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from guanxi.cli import build_parser
from guanxi.core.models import ApiToken
from guanxi.core.queries import user_for_token

pytestmark = pytest.mark.django_db


def test_token_prints_a_working_key(users, capsys):
    call_command("guanxi_token", "sales1")
    key = capsys.readouterr().out.strip()
    assert key.startswith("gx_")
    assert user_for_token(key) == users["sales1"]
    assert ApiToken.objects.get(user=users["sales1"]).key_hash != key


def test_token_for_unknown_user_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("guanxi_token", "ghost")


def test_demo_is_idempotent(db, capsys):
    from guanxi.customers.models import Customer

    call_command("guanxi_demo", customers=60, seed=1)
    first = Customer.objects.count()
    call_command("guanxi_demo", customers=60, seed=1)
    assert Customer.objects.count() == first == 60
    assert {c.team.code for c in Customer.objects.select_related("team")} == {"east", "north"}
    out = capsys.readouterr().out
    assert "guanxi-demo" in out and "sales2" in out


def test_parser_knows_every_command():
    parser = build_parser()
    for argv in (["serve"], ["migrate"], ["demo"], ["worker"], ["token", "x"],
                 ["analytics", "--help"]):
        if argv[-1] == "--help":
            with pytest.raises(SystemExit):
                parser.parse_args(argv)
        else:
            assert parser.parse_args(argv).func


def test_user_command_creates_an_administrator(users, capsys):
    from guanxi.core.models import AuditRecord, User

    call_command("guanxi_user", "boss", role="admin", team="south", team_name="华南",
                 password="A-long-pass-123")
    u = User.objects.get(username="boss")
    assert u.role.code == "admin" and u.team.name == "华南" and u.check_password(
        "A-long-pass-123")
    assert AuditRecord.objects.filter(model="core.user", object_id=str(u.pk),
                                      channel="cli").exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="password"):
        call_command("guanxi_user", "weak", role="sales", password="123")
    with pytest.raises(CommandError, match="--role"):
        call_command("guanxi_user", "x", role="emperor", password="A-long-pass-123")
