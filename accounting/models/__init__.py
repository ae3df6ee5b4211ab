"""The TMS domain: organisation, parties, equipment, loads, trips, driver pay, e-checks, card and
escrow transactions, settlements and payments; and the Sage integration's sync ledger and Error
Transactions, kept in this app. Imports nothing of intacct (its models are named by string).

Money is Decimal(14, 2). A line stores its own amount (quantity x rate, rounded once); a
document's total is always derived from its lines (`total` annotations), never stored twice.
Lines whose kind is a credit (deductions, escrow, fuel and tolls on a paystub, ...) keep a
positive amount and count negatively in the total.
"""

from .base import (
    CENT,
    NON_NEGATIVE,
    ZERO,
    AmountLine,
    ChargeLine,
    LineKind,
    TimeStamped,
    TotalFromLines,
    TotalsQuerySet,
    money,
    money_field,
    signed_total,
)
from .echecks import ECheck
from .equipment import Trailer, Truck
from .loads import LOAD_NEEDS_INVOICE_AS, BillingStatus, Load, LoadCharge, SummaryInvoice
from .organization import Fleet, Office, Subsidiary
from .parties import DUPLICATE_EXTERNAL_ID, Carrier, Customer, Driver, ExternalAccountingId, Party
from .payments import Payment
from .paystubs import Paystub, PaystubLine
from .settlements import (
    CarrierSettlement,
    CarrierStatement,
    CarrierStatementLine,
    DriverSettlement,
    Settlement,
)
from .sync import ErrorAttempt, ErrorTransaction, SyncMember, SyncRecord
from .transactions import CardTransaction, EscrowTransaction, FuelTransaction, TollTransaction
from .trips import Trip, TripCharge

__all__ = [
    "CENT",
    "DUPLICATE_EXTERNAL_ID",
    "LOAD_NEEDS_INVOICE_AS",
    "NON_NEGATIVE",
    "ZERO",
    "AmountLine",
    "BillingStatus",
    "CardTransaction",
    "Carrier",
    "CarrierSettlement",
    "CarrierStatement",
    "CarrierStatementLine",
    "ChargeLine",
    "Customer",
    "Driver",
    "DriverSettlement",
    "ECheck",
    "ErrorAttempt",
    "ErrorTransaction",
    "EscrowTransaction",
    "ExternalAccountingId",
    "Fleet",
    "FuelTransaction",
    "LineKind",
    "Load",
    "LoadCharge",
    "Office",
    "Party",
    "Payment",
    "Paystub",
    "PaystubLine",
    "Settlement",
    "Subsidiary",
    "SummaryInvoice",
    "SyncMember",
    "SyncRecord",
    "TimeStamped",
    "TollTransaction",
    "TotalFromLines",
    "TotalsQuerySet",
    "Trailer",
    "Trip",
    "TripCharge",
    "Truck",
    "money",
    "money_field",
    "signed_total",
]
