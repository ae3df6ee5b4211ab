"""Payment import: the payments recorded in Sage Intacct onto the documents this product
exported (AR onto loads, AP onto trips and paystubs), every 12 hours, with backfill and voids.

Imports: `accounting` (the TMS and the sync ledger), `intacct.connections`, `intacct.client`;
never `intacct.export` or `intacct.errors`.
"""

from .services import payment_runs_reap, payment_window_start, payments_import

__all__ = ["payment_runs_reap", "payment_window_start", "payments_import"]
