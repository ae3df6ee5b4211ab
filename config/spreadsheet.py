"""The file formats of CSV import and export (django-import-export), safe to open in a spreadsheet.

A cell starting with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice and
Google Sheets: a customer named `=HYPERLINK(...)` would go out as a live link. On export such a
cell gets a leading apostrophe (OWASP's advice against CSV injection), which spreadsheets show
as text; a plain number such as -150.00 is left as it is. On import that one apostrophe is taken
off again, so an exported file imports back unchanged. (django-import-export's own
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only drops a leading "=": data lost, + - @ still live.)
"""

import re

import tablib
from import_export.formats import base_formats

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def escape_formula(value):
    """`value` with an apostrophe in front when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return ESCAPE + value
    return value


def unescape_formula(value):
    """The value `escape_formula` was given (an imported cell as it was exported)."""
    if isinstance(value, str) and value.startswith(ESCAPE) and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def _map_cells(dataset: tablib.Dataset, function) -> tablib.Dataset:
    mapped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        mapped.append([function(cell) for cell in row])
    return mapped


class SpreadsheetSafe:
    """A text format whose exported cells are never formulae."""

    def export_data(self, dataset, **kwargs):
        return super().export_data(_map_cells(dataset, escape_formula), **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        return _map_cells(super().create_dataset(in_stream, **kwargs), unescape_formula)


class CSV(SpreadsheetSafe, base_formats.CSV):
    pass


class TSV(SpreadsheetSafe, base_formats.TSV):
    pass


# The formats offered for import and export: the library's, with CSV and TSV made safe.
FORMATS = [
    {base_formats.CSV: CSV, base_formats.TSV: TSV}.get(fmt, fmt)
    for fmt in base_formats.DEFAULT_FORMATS
]
