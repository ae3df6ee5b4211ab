"""Sage-shaped errors the sandbox answers with. Texts are Sage's where known (see the reference)."""

import secrets


def support_id() -> str:
    return secrets.token_urlsafe(12)


class SageFault(Exception):
    """A Sage error: function-level unless raised while checking control or authentication."""

    def __init__(
        self,
        errorno: str,
        description: str,
        description2: str = "",
        correction: str = "",
        *,
        support: bool = True,
    ):
        self.errorno = errorno
        self.description = description
        self.description2 = (
            f"{description2} [Support ID: {support_id()}]"
            if support and description2
            else description2
        )
        self.correction = correction
        super().__init__(f"{errorno} {description} {description2}")


class SageFaults(Exception):
    """Several errors for one function, in Sage's order."""

    def __init__(self, faults: list[SageFault]):
        self.faults = faults
        super().__init__("; ".join(str(f) for f in faults))


SIGN_IN = "XL03000006"
# The same errorno, at function level, refuses a field an object does not have (intacct-sdk-js
# issue 83, intacct-sdk-net issue 150: "XL03000006 The following fields cannot be queried:
# [ apbill: [PAYTOCONTACTNAME, RETURNTOCONTACTNAME] ]").
NOT_QUERYABLE = "XL03000006"
PARSE = "XL03000003"
ROLLED_BACK = "XL03000009"
DUPLICATE_CONTROL = "XL03000010"
PERMISSION = "DL02000001"
BUSINESS = "BL01001973"
QUERY_FAILED = "Query Failed"  # errorno is free text here (PHP SDK ResultTest.php)
DUPLICATE_ID = "BL34000061"
RATE_LIMIT = "GW-0010"

NOT_QUERYABLE_2 = "The following fields cannot be queried: [ {object}: [{fields}] ]"
# Not documented for a create or update [inferred: a business error naming the fields, as a
# query's refusal does].
NOT_WRITABLE = "Invalid field"
NOT_WRITABLE_2 = "The following fields are not valid for {object}: [{fields}]"
# An element the schema does not allow in a legacy function: Sage validates those against
# api.v3.0.xsd [inferred: refused as the XML parse error XL03000003, for that function alone].
SCHEMA = "XML Parse schema error"
SCHEMA_2 = "Element <{element}> is not allowed in <{parent}>."
MISSING_FIELD = "Missing required field"
MISSING_FIELD_2 = "{field} is required in {object}."
NO_OBJECT_2 = "Object definition {object} not found"
# A create Sage refuses ends with this generic error after the specific one (DOCS
# requests.md: "Could not create GL Account record."; PHP SDK history ClassObjTest.php
# @09f3b9a: BL34000061, then "Could not create Class record!").
NOT_CREATED_2 = "Could not create {object} record!"
SIGN_IN_INCORRECT = "Sign-in information is incorrect"
INVALID_SESSION = "Invalid session. Please log in again."
INVALID_SENDER = "Invalid sender ID or sender password"
SENDER_NOT_AUTHORIZED = "Invalid Web Services Authorization"
SENDER_NOT_AUTHORIZED_2 = (
    "The sender ID '{sender}' is not authorized to make Web Services "
    "requests to company '{company}'."
)
SENDER_NOT_AUTHORIZED_FIX = (
    "Contact the company administrator to grant Web Services authorization to this sender ID."
)
NOT_SUBSCRIBED = "Web Services is not subscribed"
NOT_SUBSCRIBED_2 = "Company '{company}' does not have the Web Services subscription."
NOT_SUBSCRIBED_FIX = "Subscribe to Web Services under Company > Subscriptions."
ROLLED_BACK_TEXT = "The entire transaction in this operation has been rolled back due to an error."
NO_PERMISSION_2 = "You do not have permission for API operation {op} on objects of type {object}"
DUPLICATE_CONTROL_TEXT = "Duplicate control ID"
DUPLICATE_CONTROL_2 = (
    "A request with function control ID '{controlid}' was already processed successfully."
)
DUPLICATE_CONTROL_FIX = "Use a new control ID, or look up the record that was created."
TERM_INVALID = "Term entered is not valid"
TERM_INVALID_2 = "The term name '{term}' is invalid"
PAYMENTS_APPLIED = "Payments must be removed before the invoice can be reversed."
BILL_NOT_EDITABLE = "The bill cannot be changed in its current state"
BILL_NOT_EDITABLE_2 = (
    "Bill {recordno} is {state}. Reverse it in Sage (a reversal entry is "
    "created) and create a new bill."
)


def fault(
    description: str, description2: str = "", correction: str = "", errorno: str = BUSINESS
) -> SageFault:
    return SageFault(errorno, description, description2, correction)
