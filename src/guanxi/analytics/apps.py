from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "guanxi.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from guanxi.analytics.views import scores_panel
        from guanxi.core import panels

        panels.register("scores", "analytics/_scores_panel.html", scores_panel, position=10)
