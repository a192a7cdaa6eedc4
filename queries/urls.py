from queries.views import urlpatterns

__all__ = ["urlpatterns"]
