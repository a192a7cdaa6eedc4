from django.apps import AppConfig


class TrialConfig(AppConfig):
    name = "trial"
    verbose_name = "Trial configuration"

    def ready(self):
        # The pure rules build their reasons through trial.rules.words: give them Django's translator.
        from django.utils import translation

        from trial.rules import words

        words.install(
            gettext_function=translation.gettext,
            pgettext_function=translation.pgettext,
            ngettext_function=translation.ngettext,
        )
