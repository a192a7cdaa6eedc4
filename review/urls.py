from review.views import urlpatterns

__all__ = ["urlpatterns"]
