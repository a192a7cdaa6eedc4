"""URLs of the exports app."""

from exports.views import urlpatterns

__all__ = ["urlpatterns"]
