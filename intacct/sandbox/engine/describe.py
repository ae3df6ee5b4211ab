"""lookup and inspect: the fields of an object, its custom fields included (`lookup` says
which are custom; `inspect` gives their lengths)."""

from .context import Context, Reply
from .records import custom_fields, spec_of
from .values import required


def lookup(ctx: Context, body) -> Reply:
    object = required(body, "object", "lookup").upper()
    spec = spec_of(object)
    fields = [
        {
            "ID": name,
            "LABEL": name.title(),
            "DESCRIPTION": "",
            "REQUIRED": str(name in spec.required).lower(),
            "READONLY": "false",
            "DATATYPE": "TEXT",
            "ISCUSTOM": "false",
        }
        for name in spec.fields
    ]
    for custom in custom_fields(ctx, object):
        fields.append(
            {
                "ID": custom.field_id,
                "LABEL": custom.label,
                "DESCRIPTION": "",
                "REQUIRED": str(custom.required).lower(),
                "READONLY": "false",
                "DATATYPE": custom.datatype.upper(),
                "ISCUSTOM": "true",
            }
        )
    # DOCS queries.md "lookup": <Type Name=".." DocumentType=""><Fields><Field>..
    return Reply(
        [{"@Name": object, "@DocumentType": "", "Fields": {"Field": fields}, "Relationships": ""}],
        "All",
        attrs={"count": 1},
        key=None,
    )


def inspect(ctx: Context, body) -> Reply:
    object = required(body, "object", "inspect").upper()
    spec = spec_of(object)
    fields = [
        {
            "Name": name,
            "GroupName": "",
            "dataName": "Pt_FieldString",
            "externalDataName": "string",
            "isRequired": str(name in spec.required).lower(),
            "isReadOnly": str(name in ("RECORDNO", "WHENMODIFIED")).lower(),
            "maxLength": str(spec.max_lengths.get(name, "")),
            "DisplayLabel": name.title(),
            "Description": "",
            "id": str(number),
        }
        for number, name in enumerate(spec.fields, start=1)
    ]
    for custom in custom_fields(ctx, object):
        fields.append(
            {
                "Name": custom.field_id,
                "GroupName": "",
                "dataName": "Pt_FieldString" if custom.datatype == "text" else "Pt_FieldDouble",
                "externalDataName": "string" if custom.datatype == "text" else "decimal",
                "isRequired": str(custom.required).lower(),
                "isReadOnly": "false",
                "maxLength": str(custom.max_length or ""),
                "DisplayLabel": custom.label,
                "Description": "",
                "id": str(10000 + custom.pk),
            }
        )
    # As Sage's (PHP SDK history test/Intacct/Company/InspectClassResponse.xml @09f3b9a): the
    # object's Attributes, then each Field, with no flag for custom fields (`lookup` has it).
    attributes = {"SingularName": object.title(), "PluralName": f"{object.title()}s"}
    return Reply(
        [
            {
                "@Name": object,
                "Attributes": {**attributes, "Description": ""},
                "Fields": {"Field": fields},
            }
        ],
        "All",
        attrs={"count": 1},
    )
