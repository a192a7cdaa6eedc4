from audit.views import urlpatterns

__all__ = ["urlpatterns"]
