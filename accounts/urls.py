from accounts.views import urlpatterns

__all__ = ["urlpatterns"]
