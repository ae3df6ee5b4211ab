"""Payment notifications: Sage Intacct tells a connection's endpoint that a payment was added
or changed (a Smart Event's HTTP post, or a Platform trigger's webhook), and a narrow payment
import reads those payments back from Sage at once. The notification is a hint, never data:
what is stored comes from Sage, through `intacct.payments`, deduplicated by Sage detail ID, so
the 12-hour import and a notification never apply a payment twice.

Imports: `intacct.payments`, `intacct.connections`, `intacct.client`; never `intacct.export`,
`intacct.errors` or the sandbox. The task it queues is named by string (`intacct.tasks`).
"""
