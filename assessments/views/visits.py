"""Visit calendar, visit page, unscheduled visits and the worklist."""

urlpatterns = []
