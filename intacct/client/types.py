"""What the client takes and returns: credentials, the session, one function's `Result`, the
audit record of each HTTP call and `inspect`'s object definitions, and the parsing of Sage's
answers into them. Plain Python: no Django."""

from dataclasses import dataclass, field

from .errors import TRANSACTION_ROLLED_BACK, ErrorDetail, IntacctError, classify_function_errors
from .wire import as_list, text_of


@dataclass(frozen=True)
class SenderCredentials:
    sender_id: str
    sender_password: str = field(repr=False)


@dataclass(frozen=True)
class Credentials:
    """A Sage company's Web Services user. `location_id`: an entity ID, '' for the top level,
    None to stay at the level the user signs in to."""

    company_id: str
    user_id: str
    password: str = field(repr=False)
    location_id: str | None = None


@dataclass(frozen=True)
class Session:
    session_id: str = field(repr=False)
    endpoint_url: str
    location_id: str | None


@dataclass
class Result:
    """One function's outcome. `already_applied`: a resend found the controlid already done."""

    controlid: str
    function: str
    status: str
    data: list[dict] = field(default_factory=list)
    key: str | None = None
    listtype: str | None = None
    count: int | None = None
    totalcount: int | None = None
    numremaining: int | None = None
    offset: int | None = None
    result_id: str | None = None
    errors: list[ErrorDetail] = field(default_factory=list)
    already_applied: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def error(self) -> IntacctError:
        """The typed exception for this result (only meaningful when not ok)."""
        if self.status == "aborted" and not self.errors:
            return classify_function_errors(
                [
                    ErrorDetail(
                        TRANSACTION_ROLLED_BACK,
                        "Transaction rolled back",
                        "Another function in the same transaction failed.",
                    )
                ]
            )
        return classify_function_errors(self.errors)

    def raise_for_status(self) -> "Result":
        if not self.ok:
            raise self.error()
        return self

    @property
    def record_no(self) -> str | None:
        """The created record's RECORDNO (generic create) or key (legacy create)."""
        if self.key:
            return self.key
        for record in self.data:
            if record.get("RECORDNO"):
                return record["RECORDNO"]
        return None


@dataclass(frozen=True)
class AuditRecord:
    """What the audit hook receives for every HTTP call. Bodies are already redacted."""

    request_controlid: str
    functions: tuple[tuple[str, str], ...]  # (function name, controlid)
    url: str
    attempt: int
    http_status: int | None
    duration_ms: float
    outcome: str
    request_xml: str
    response_xml: str


@dataclass(frozen=True)
class FieldDefinition:
    name: str
    label: str
    datatype: str
    required: bool
    read_only: bool
    max_length: int | None
    is_custom: bool


@dataclass(frozen=True)
class ObjectDefinition:
    name: str
    fields: tuple[FieldDefinition, ...]

    def field(self, name: str) -> FieldDefinition | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def custom_fields(self) -> tuple[FieldDefinition, ...]:
        return tuple(f for f in self.fields if f.is_custom)


def parse_inspect(object: str, data: list[dict]) -> ObjectDefinition:
    type_node = data[0] if data else {}
    fields = []
    for raw in as_list((type_node.get("Fields") or {}).get("Field")):
        max_length = text_of(raw.get("maxLength"))
        fields.append(
            FieldDefinition(
                name=text_of(raw.get("Name")),
                label=text_of(raw.get("DisplayLabel")) or text_of(raw.get("Name")),
                datatype=text_of(raw.get("externalDataName")) or text_of(raw.get("dataName")),
                required=text_of(raw.get("isRequired")).lower() == "true",
                read_only=text_of(raw.get("isReadOnly")).lower() == "true",
                max_length=int(max_length) if max_length.isdigit() else None,
                is_custom=text_of(raw.get("isCustom")).lower() == "true",
            )
        )
    return ObjectDefinition(name=type_node.get("@Name", object), fields=tuple(fields))


def parse_lookup(object: str, data: list[dict]) -> ObjectDefinition:
    """`lookup`'s Type: ID, LABEL, REQUIRED, READONLY, DATATYPE, ISCUSTOM per field (DOCS
    queries.md, "lookup"). It names custom fields, which `inspect` does not (PHP SDK history
    test/Intacct/Company/InspectClassResponse.xml @09f3b9a: no such element in 174 fields)."""
    type_node = data[0] if data else {}
    fields = [
        FieldDefinition(
            name=text_of(raw.get("ID")),
            label=text_of(raw.get("LABEL")) or text_of(raw.get("ID")),
            datatype=text_of(raw.get("DATATYPE")).lower(),
            required=text_of(raw.get("REQUIRED")).lower() == "true",
            read_only=text_of(raw.get("READONLY")).lower() == "true",
            max_length=None,
            is_custom=text_of(raw.get("ISCUSTOM")).lower() == "true",
        )
        for raw in as_list((type_node.get("Fields") or {}).get("Field"))
    ]
    return ObjectDefinition(name=type_node.get("@Name", object), fields=tuple(fields))


def merge_definitions(looked_up: ObjectDefinition, inspected: ObjectDefinition) -> ObjectDefinition:
    """One definition from both answers: custom flags from `lookup`, max lengths and types
    from `inspect`, required when either says so."""
    by_name = {f.name: f for f in inspected.fields}
    fields = []
    for field_ in looked_up.fields:
        other = by_name.pop(field_.name, None)
        if other is not None:
            field_ = FieldDefinition(
                name=field_.name,
                label=other.label or field_.label,
                datatype=other.datatype or field_.datatype,
                required=field_.required or other.required,
                read_only=field_.read_only or other.read_only,
                max_length=other.max_length,
                is_custom=field_.is_custom or other.is_custom,
            )
        fields.append(field_)
    return ObjectDefinition(name=looked_up.name, fields=(*fields, *by_name.values()))


def parse_errors(errormessage) -> list[ErrorDetail]:
    if not isinstance(errormessage, dict):
        return []
    return [
        ErrorDetail(
            errorno=text_of(raw.get("errorno")),
            description=text_of(raw.get("description")),
            description2=text_of(raw.get("description2")),
            correction=text_of(raw.get("correction")),
        )
        for raw in as_list(errormessage.get("error"))
        if isinstance(raw, dict)
    ]


def _int(value) -> int | None:
    text = text_of(value) if not isinstance(value, str) else value
    return int(text) if text and text.lstrip("-").isdigit() else None


def parse_result(raw: dict) -> Result:
    data = raw.get("data")
    records, attrs = [], {}
    if isinstance(data, dict):
        attrs = {k[1:]: v for k, v in data.items() if k.startswith("@")}
        for tag, value in data.items():
            if tag.startswith("@") or tag == "#text":
                continue
            records += [r if isinstance(r, dict) else {"#text": r} for r in as_list(value)]
    return Result(
        controlid=text_of(raw.get("controlid")),
        function=text_of(raw.get("function")),
        status=text_of(raw.get("status")),
        data=records,
        key=text_of(raw.get("key")) or None,
        listtype=attrs.get("listtype"),
        count=_int(attrs.get("count")),
        totalcount=_int(attrs.get("totalcount")),
        numremaining=_int(attrs.get("numremaining")),
        offset=_int(attrs.get("offset")),
        result_id=attrs.get("resultId") or None,
        errors=parse_errors(raw.get("errormessage")),
    )
