"""Messages people see. The troubleshooting ones keep the seeds' wording exactly."""

# Export and sync failures (the Error Transactions page shows these).
CLIENT_NOT_INITIALIZED = "Sage client is not initialized"
CUSTOMER_NOT_LINKED = "Invoice export requires a linked Sage customer ID"
VENDOR_NOT_LINKED = "Bill export requires a linked Sage vendor ID"
MISSING_REVENUE_ACCOUNT = "Line {line} is missing a revenue account"
MISSING_EXPENSE_ACCOUNT = "Line {line} is missing an expense account"
NO_MAPPED_DIMENSION = "Line {line} must have at least one mapped Sage dimension"
REQUIRED_CUSTOM_FIELD_MISSING = "Required Sage custom field {name} is missing"
CUSTOM_FIELD_TOO_LONG = "Custom field {name} exceeds the Sage max length"
TERM_NOT_VALID = "Term entered is not valid"
PAYMENTS_MUST_BE_REMOVED = "Payments must be removed before the invoice can be reversed"
AP_BILL_MANUAL_REVERSAL = "AP bill requires manual reversal"

# Connection wizard and settings.
DESTINATION_IMMUTABLE = (
    "The posting destination is permanent once the connection is set up. To change it, "
    "disconnect the subsidiary and connect it again with the other destination."
)
LAST_TOGGLE = (
    "This is the last active sync toggle for this subsidiary, so it cannot be turned off. "
    "Use Primary Sync to pause all syncing instead."
)
NO_SUBSIDIARY_TO_CONNECT = (
    "Every subsidiary is already connected. Create a subsidiary first (Accounting → "
    "Subsidiaries), then connect it."
)
CONNECT_SIGN_IN = (
    "Sage Intacct says the sign-in information is incorrect. Check the Company ID, the Web "
    "Services User ID and that user's password."
)
CONNECT_SENDER = (
    "Sage Intacct has not authorized this application's sender ID ({sender}) for company "
    "{company}. In Sage, go to Company > Web Services Authorizations, click Add, enter "
    "{sender} and save, then connect again."
)
CONNECT_NOT_SUBSCRIBED = (
    "Web Services is not enabled for Sage company {company}. In Sage, go to Company > "
    "Subscriptions and enable Web Services, then connect again."
)
CONNECT_PERMISSION = (
    'The Web Services user lacks a module permission in Sage: give its role "All" on the '
    "ten required modules (see the prerequisites), then connect again. Sage said: {detail}"
)
# `detail` is what went wrong, without the client's own "Sage Intacct could not be reached"
# around it (services.unreachable_detail), so the sentence says it once.
CONNECT_UNREACHABLE = (
    "Sage Intacct could not be reached ({detail}). Nothing was lost: what you entered is kept; "
    "try again in a few minutes."
)
# Test connection and `manage.py intacct_check`: no form is involved, the address is the point.
TEST_UNREACHABLE = (
    "Sage Intacct could not be reached at {endpoint} ({detail}). If Sage Intacct (or the "
    "built-in sandbox) answers at another address, set INTACCT_ENDPOINT_URL to it and test "
    "again."
)
CONNECT_NO_ENTITY = (
    'Sage company {company} has no entity named "{name}" (the subsidiary\'s name). Create '
    "the child entity in Sage, rename the subsidiary to match it, or choose Top-level entity."
)
TERM_NEEDS_ONE_PARTY = "Choose exactly one customer, carrier or driver for a custom term."
CUSTOM_FIELD_TYPES_INCOMPATIBLE = (
    "Sage field {field} holds a {sage_type}, but the TMS field {tms_field} is a {tms_type}. "
    "Choose a TMS field of the same type (any TMS field fits a text field)."
)
