"""Events of the TMS that other apps (the Sage integration) react to."""

from django.dispatch import Signal

# Sent (after the transaction commits) when a trip's carrier invoice document is uploaded.
# Arguments: trip.
carrier_invoice_uploaded = Signal()

# Sent (after the transaction commits) when loads are invoiced together (batch invoicing).
# Arguments: load_ids.
loads_invoiced = Signal()
