from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.core import timeline
        from guanxi.customers.queries import _audit_provider

        timeline.register("change", _audit_provider)
