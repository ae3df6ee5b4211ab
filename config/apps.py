from django.apps import AppConfig


class LedgerlineConfig(AppConfig):
    """The project's own checks (config/checks.py); no models."""

    name = "config"
    label = "ledgerline"
    verbose_name = "Ledgerline"

    def ready(self):
        from . import checks  # noqa: F401 (registers the checks)
