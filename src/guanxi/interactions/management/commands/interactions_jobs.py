from django.core.management.base import BaseCommand, CommandError

from guanxi.core.access import Actor
from guanxi.interactions import mail, services, tasks


class Command(BaseCommand):
    help = ("Interactions jobs: fetch and file mail now, send due reminders now, or start the "
            "periodic loops that the worker runs (--schedule).")

    def add_arguments(self, parser):
        parser.add_argument("--fetch-mail", action="store_true", help="fetch the mailbox now")
        parser.add_argument("--reminders", action="store_true", help="send due reminders now")
        parser.add_argument("--schedule", action="store_true",
                            help="start (or restart) the periodic mail and reminder loops")

    def handle(self, *args, fetch_mail, reminders, schedule, **options):
        if not (fetch_mail or reminders or schedule):
            raise CommandError("Give --fetch-mail, --reminders or --schedule.")
        actor = Actor.system("cli")
        if fetch_mail:
            if mail.mailbox_config() is None:
                raise CommandError("No mailbox: set IMAP_HOST, IMAP_USER and IMAP_PASSWORD.")
            try:
                run = services.mail_fetch(actor=actor)
            except mail.MailError as exc:
                raise CommandError(f"Mail server: {exc}") from exc
            self.stdout.write(f"Fetched {run.done} messages: {run.params}")
        if reminders:
            self.stdout.write(f"Sent {services.reminders_send(actor=actor)} reminders.")
        if schedule:
            tokens = tasks.schedule()
            self.stdout.write(f"Scheduled: {', '.join(sorted(tokens))}.")
