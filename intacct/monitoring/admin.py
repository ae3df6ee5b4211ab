"""The status panel on the connection's page (templates/admin/intacct/_status.html)."""

from .status import connections_status


class StatusPages:
    """Adds the connection's status to its page."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            ids = [int(object_id)]
        except (TypeError, ValueError):
            ids = []
        statuses = connections_status(connection_ids=ids) if ids else []
        extra = {**(extra_context or {}), "intacct_status": statuses[0] if statuses else None}
        return super().change_view(request, object_id, form_url, extra)
