from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.core import timeline
        from guanxi.sales.queries import timeline as sales_timeline

        for name, provider in sales_timeline.PROVIDERS.items():
            timeline.register(name, provider)
