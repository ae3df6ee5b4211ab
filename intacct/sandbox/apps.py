from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "intacct.sandbox"
    label = "intacct_sandbox"
    verbose_name = "Sage Intacct sandbox"
