from django.core.management.base import BaseCommand

from guanxi.core.access import Actor
from guanxi.core.demo import DEMO_PASSWORD, DEMO_USERS, ensure_users


class Command(BaseCommand):
    help = "Load demo users and data (idempotent: running it again adds nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, customers, seed, **options):
        from guanxi.customers import services
        from guanxi.customers.demo import customer_records
        from guanxi.customers.queries import demo_customer_count
        from guanxi.sales.reference import ensure as ensure_sales_reference

        ensure_sales_reference()  # a fresh database has it from its migration
        users = ensure_users()
        existing = demo_customer_count()
        if existing == 0 and customers > 0:
            east = [users["sales1"].pk, users["manager"].pk]
            north = [users["sales2"].pk]
            records = customer_records(customers, east, north, seed=seed)
            ids = services.customer_bulk_create(actor=Actor.system(channel="system"),
                                                records=records)
            self.stdout.write(f"Created {len(ids)} demo customers.")
        else:
            self.stdout.write(f"Demo customers already present ({existing}).")
        # Each later app adds its demo data in order; each loader is idempotent.
        from importlib import import_module

        for module in ("guanxi.sales.demo", "guanxi.sales.demo_pipeline",
                       "guanxi.interactions.demo", "guanxi.analytics.demo"):
            try:
                loader = import_module(module)
            except ModuleNotFoundError:
                continue
            loader.load(users=users, seed=seed, stdout=self.stdout)
        self.stdout.write(f"Demo sign-ins (password {DEMO_PASSWORD}): {', '.join(DEMO_USERS)}")
