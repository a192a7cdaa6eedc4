from django.apps import AppConfig


class CrfConfig(AppConfig):
    """The core every door uses: the catalogue of case report forms and their versions."""

    name = "crf"
    verbose_name = "Case report forms"
