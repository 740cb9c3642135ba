from django.urls import include, path
from django.views import defaults

from guanxi.core.api import api, plain_error

urlpatterns = [
    path("", include("guanxi.core.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("interactions/", include("guanxi.interactions.urls")),
    path("analytics/", include("guanxi.analytics.urls")),
    path("api/v1/", api.urls),
]

handler400 = plain_error(defaults.bad_request, 400, "Bad request.")
handler403 = plain_error(defaults.permission_denied, 403, "Permission denied.")
handler404 = plain_error(defaults.page_not_found, 404, "Not found.")
handler500 = plain_error(defaults.server_error, 500, "Server error.")
