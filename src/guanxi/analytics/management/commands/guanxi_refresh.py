import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from guanxi.analytics import services
from guanxi.core.access import Actor


class Command(BaseCommand):
    help = ("Refresh every customer's scores now (for a nightly cron job); --queue hands it "
            "to the worker instead.")

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--queue", action="store_true")

    def handle(self, *args, as_of, queue, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError("--as-of: give a date as YYYY-MM-DD.") from None
        job = services.refresh_start(actor=Actor.system(channel="task"), as_of=day,
                                     enqueue=queue)
        if queue:
            self.stdout.write(f"Queued refresh job {job.pk}.")
            return
        run_id = services.run_refresh_job(job_id=job.pk)
        self.stdout.write(f"Scores refreshed (run {run_id}).")
