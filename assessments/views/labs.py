"""Lab panel entry and supportive care."""

urlpatterns = []
