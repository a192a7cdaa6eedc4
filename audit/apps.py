from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _append_only(sender, app_config=None, using="default", **kwargs) -> None:
    from django.apps import apps

    from audit.immutability import history_tables_protect
    from audit.trail_order import history_tables_index

    # post_migrate is sent once per app; protect the tables once, after the last one.
    if app_config is not None and app_config is not list(apps.get_app_configs())[-1]:
        return
    history_tables_protect(using=using)
    history_tables_index(using=using)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from audit import receivers  # noqa: F401 - connects the login and role-change receivers

        # New history tables arrive with later migrations; protect them after every migrate.
        post_migrate.connect(_append_only, dispatch_uid="audit.append_only")
