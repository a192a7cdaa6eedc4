"""The navbar's bell: how many of the user's notifications are unread."""

from django import template

from notifications.selectors import notifications_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    return notifications_unread_count(user=getattr(request, "user", None))
