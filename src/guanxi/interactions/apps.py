from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "guanxi.interactions"
    label = "interactions"
    verbose_name = _("Interactions")

    def ready(self) -> None:
        from guanxi.core import timeline
        from guanxi.core.events import subscribe
        from guanxi.interactions import queries, services

        for name, provider in queries.PROVIDERS.items():
            timeline.register(name, provider)
        subscribe("sales.quote_approval_requested", services.on_quote_approval_requested)
        subscribe("customers.customer_updated", services.on_customer_updated)
        from guanxi.core import panels

        panels.register("interactions", "interactions/_customer_panel_loader.html",
                        lambda actor, customer: {"customer_id": customer.pk}, position=20)
