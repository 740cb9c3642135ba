from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "guanxi.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from guanxi.core import panels

        # Loaded after the customer page's first screen (analytics/views.py: customer_panel).
        panels.register("scores", "analytics/_scores_panel_loader.html",
                        lambda actor, customer: {"customer_id": customer.pk}, position=10)
