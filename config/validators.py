"""Text typed into a form or a CSV file reaches Sage Intacct and the logs: an invisible control
character is refused where it is typed, naming the field, instead of failing an export later
(XML cannot carry most of them) or forging a line in a log.

Single-line text refuses every control character; multi-line text keeps tab and line breaks.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name
from django.utils.deconstruct import deconstructible

CONTROL_CHARACTER = "{field} contains an invisible control character ({code}): remove it."

# C0 controls, DEL, C1 controls, and the two code points XML 1.0 forbids outright.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def control_character_problem(value, *, field: str, multiline: bool = False) -> str:
    """The message naming `field` when `value` holds a control character, else ""."""
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(str(value))
    if found is None:
        return ""
    return CONTROL_CHARACTER.format(field=field, code=f"U+{ord(found.group()):04X}")


@deconstructible
class NoControlCharacters:
    """A validator refusing control characters with a message naming the field."""

    def __init__(self, field: str, *, multiline: bool = False):
        self.field, self.multiline = field, multiline

    def __call__(self, value):
        problem = control_character_problem(value, field=self.field, multiline=self.multiline)
        if problem:
            raise ValidationError(problem, code="control_character")

    def __eq__(self, other):
        return isinstance(other, NoControlCharacters) and (self.field, self.multiline) == (
            other.field,
            other.multiline,
        )


def plain_text(formfield, *, label: str = "", multiline: bool | None = None):
    """`formfield` refusing control characters when it takes free text; returned for chaining.

    A choice field needs nothing (only its choices pass). Multi-line is read from the widget
    when not given (a Textarea keeps tab and line breaks).
    """
    if isinstance(formfield, forms.CharField):
        if multiline is None:
            multiline = isinstance(formfield.widget, forms.Textarea)
        name = str(label or formfield.label or "This field")
        formfield.validators.append(NoControlCharacters(name, multiline=multiline))
    return formfield


class PlainTextForm:
    """A form mixin: every free-text field refuses control characters, naming the field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, formfield in self.fields.items():
            plain_text(formfield, label=formfield.label or pretty_name(name))
