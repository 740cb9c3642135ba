import getpass

from django.core.management.base import BaseCommand, CommandError

from guanxi.core import queries, services
from guanxi.core.access import Actor
from guanxi.core.exceptions import ValidationError


class Command(BaseCommand):
    help = "Add a user with a role (and team): the way to create the first administrator."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True,
                            help="admin, manager, sales, service, marketing, analyst, readonly")
        parser.add_argument("--team", default=None, help="team code (created if missing)")
        parser.add_argument("--team-name", default=None)
        parser.add_argument("--name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="prompted for when omitted")

    def handle(self, *args, **o):
        role = queries.role_by_code(o["role"])
        if role is None:
            raise CommandError(f"--role: no role {o['role']!r}.")
        team = None
        actor = Actor.system(channel="cli")
        if o["team"]:
            team = queries.team_by_code(o["team"]) or services.team_create(
                actor=actor, code=o["team"], name=o["team_name"] or o["team"])
        password = o["password"] or getpass.getpass("Password: ")
        try:
            user = services.user_create(actor=actor, password=password, data={
                "username": o["username"], "first_name": o["name"], "email": o["email"],
                "role": role.pk, "team": team.pk if team else None, "is_active": True})
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}"
                                         for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"Created {user.username} ({role.code}).")
