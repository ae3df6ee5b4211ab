"""Monitoring the integration from outside: per connection, when the last export and payment
import succeeded, documents waiting, open Error Transactions, overdue schedules and failing
credentials (`status`); one email to the connection's admins when that changes (`alerts`);
the JSON endpoint a monitor polls (`views`) and the connection page's panel (`admin`).

Imports: `accounting` (Error Transactions, users' roles), `intacct.export` (what is waiting),
`intacct.payments` (the import log), `intacct.connections`; nothing imports it but the
integration's top layer (admin, tasks, management commands) and `config.urls`.
"""

from .alerts import alerts_send
from .status import ConnectionStatus, Problem, connections_status, export_run_record

__all__ = [
    "ConnectionStatus",
    "Problem",
    "alerts_send",
    "connections_status",
    "export_run_record",
]
