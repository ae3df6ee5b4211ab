"""Error Transactions: why each export failed and how to fix it (`fixes`, one rule per
troubleshooting message of the seeds), grouped causes, Retry Sync, Sync All, Mark as Synced and
Retry export (`services`), and their pages under Accounting (`admin`).

The rows themselves (ErrorTransaction, ErrorAttempt, the SyncRecord ledger) are models of the
`accounting` app, so their tables, URLs and menu place stay where the seeds show them.

Imports: `accounting`, `intacct.export` (every retry goes through the export's own path),
`intacct.connections`, `intacct.client`, `intacct.messages`; never `intacct.payments`.
"""
