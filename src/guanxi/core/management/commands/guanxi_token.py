from django.core.management.base import BaseCommand, CommandError

from guanxi.core import queries, services
from guanxi.core.access import Actor
from guanxi.core.exceptions import NotFound


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (the key is shown once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, username, name, **options):
        try:
            user = queries.user_get(username=username)
        except NotFound:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        key = services.token_create(actor=Actor(user=user, channel="cli"), user=user, name=name)
        self.stdout.write(key)
