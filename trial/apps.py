from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    from trial.roles import roles_sync

    roles_sync()


class TrialConfig(AppConfig):
    name = "trial"
    verbose_name = "Trial configuration"

    def ready(self) -> None:
        # Permissions exist only after migrate, created app by app; the groups follow each batch.
        post_migrate.connect(_sync_roles, dispatch_uid="trial.roles_sync")
