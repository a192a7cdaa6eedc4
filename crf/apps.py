from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    from crf.roles import roles_sync

    roles_sync()


class CrfConfig(AppConfig):
    """The core every door uses: the catalogue of case report forms, the write path, locks,
    edit-check queries and the task outbox."""

    name = "crf"
    verbose_name = "Case report forms"

    def ready(self) -> None:
        # Permissions exist only after migrate, created app by app; the groups follow each batch.
        post_migrate.connect(_sync_roles, dispatch_uid="crf.roles_sync")
