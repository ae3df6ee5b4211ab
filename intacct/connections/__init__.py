"""Connections: one subsidiary's link to a Sage Intacct company, its AR / AP / advanced
settings and its GL account, dimension, custom field and term mappings; the connection wizard,
reconciliation, templates, disconnect; the credentials kept encrypted (`crypto`), the one place
a Sage client is built from a connection (`sage`) and the schedules that run the integration.

Imports: `accounting` (subsidiaries and parties), `intacct.client`, `intacct.messages`; nothing
else of the integration.
"""
