from django.apps import AppConfig


class IntacctConfig(AppConfig):
    name = "intacct"
    verbose_name = "Sage Intacct"

    def ready(self):
        from accounting.signals import carrier_invoice_uploaded, loads_invoiced

        from .connections.signals import connection_disconnected
        from .notifications.services import notification_secret_delete
        from .tasks import carrier_invoice_uploaded_receiver, loads_invoiced_receiver

        carrier_invoice_uploaded.connect(
            carrier_invoice_uploaded_receiver, dispatch_uid="intacct-send-on-upload"
        )
        loads_invoiced.connect(loads_invoiced_receiver, dispatch_uid="intacct-batch-invoicing")
        connection_disconnected.connect(
            notification_secret_delete, dispatch_uid="intacct-notification-secret-delete"
        )
