from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = "Accounting"

    def ready(self):
        from .roles import roles_ensure

        # Permissions are created on post_migrate too (django.contrib.auth, connected first).
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="accounting_roles_ensure")
