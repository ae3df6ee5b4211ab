"""Reconcile with Sage: a drift report of what changed in Sage Intacct behind the TMS's back
(documents deleted, reversed, edited or paid there, or created with our numbers), with a fix
for each, Link and Import payments on request, and one Error Transaction per affected document.

Layers: `admin` (the report page on the connection) → `services` → `expected` (the TMS's side)
and `reading` (Sage's side) → `models` (the run log and its findings).

Imports: `accounting`, `intacct.export` (the payload builder, the ledger's claim lease, the
resolution of a linked document's errors), `intacct.payments` (Import payments calls its
service as it is), `intacct.errors` (the drift messages), `intacct.connections`,
`intacct.client`.
"""
