"""The pages' role permissions for the API: reading needs `view_<model>`, writing `add`/`change`.

Site scoping is done by each view's queryset (a record of another site is a 404, as on the pages).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class RolePermission(BasePermission):
    """A view declares `perm_model` ("app.model") and, for custom actions, `action_perms`."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        model = getattr(view, "perm_model", None)
        if model is None:
            return True
        app, name = model.split(".")
        action = getattr(view, "action", None)
        custom = getattr(view, "action_perms", {}).get(action)
        if custom is not None:
            return user.has_perm(custom)
        if request.method in SAFE_METHODS:
            return user.has_perm(f"{app}.view_{name}")
        verb = "add" if request.method == "POST" else "change"
        return user.has_perm(f"{app}.view_{name}") and user.has_perm(f"{app}.{verb}_{name}")
