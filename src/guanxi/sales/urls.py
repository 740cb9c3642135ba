"""Sales pages: each views module lists its own ``urlpatterns``."""

from guanxi.sales.views import dashboard, leads, opportunities, orders, products, quotes

urlpatterns = [
    *dashboard.urlpatterns,
    *leads.urlpatterns,
    *opportunities.urlpatterns,
    *products.urlpatterns,
    *quotes.urlpatterns,
    *orders.urlpatterns,
]
