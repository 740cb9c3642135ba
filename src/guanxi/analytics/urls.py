from guanxi.analytics.views import urlpatterns

__all__ = ["urlpatterns"]
