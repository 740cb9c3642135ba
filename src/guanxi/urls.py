from django.urls import include, path

from guanxi.core.api import api

urlpatterns = [
    path("", include("guanxi.core.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("interactions/", include("guanxi.interactions.urls")),
    path("analytics/", include("guanxi.analytics.urls")),
    path("api/v1/", api.urls),
]
