"""Payment terms (ARTERM / APTERM): when a document is due under a term. Plain Python.

A term's due rule is its `DUEDATE` (a number of days, or a day of the month) and `DUEFROM`
(what that number counts from). The DUEFROM values are Sage's (DOCS
`accounts-payable-ap-terms.md`, `create_apterm` `due/duefrom`; the same on ARTERM); the
fields are those `query` selects in the same page and that `lookup` lists (DUEDATE, DUEFROM:
stelth-it/conduit `lib/conduit/sage/object/apterm.ex`). What each value means is read from its
wording, as Sage's term screen does [inferred]: "from invoice/bill date" adds days; "of the
month of", "of next month from", "of 2nd month from" ... "of 6th month from invoice/bill date"
name a day of that month, the month's last day when it is shorter.
"""

import calendar
import datetime as dt

FROM_DATE = "from invoice/bill date"
MONTHS_AFTER = {
    "of the month of invoice/bill date": 0,
    "of next month from invoice/bill date": 1,
    "of 2nd month from invoice/bill date": 2,
    "of 3rd month from invoice/bill date": 3,
    "of 4th month from invoice/bill date": 4,
    "of 5th month from invoice/bill date": 5,
    "of 6th month from invoice/bill date": 6,
}
DUE_FROM = (FROM_DATE, *MONTHS_AFTER)


def due_date(date: dt.date, *, due_days: int, due_from: str = FROM_DATE) -> dt.date:
    """The day a document dated `date` is due under a term of `due_days` `due_from`.

    Raises ValueError for a DUEFROM Sage does not define.
    """
    due_from = due_from or FROM_DATE
    if due_from == FROM_DATE:
        return date + dt.timedelta(days=due_days)
    if due_from not in MONTHS_AFTER:
        raise ValueError(f"'{due_from}' is not a due rule of a Sage term.")
    months = date.month - 1 + MONTHS_AFTER[due_from]
    year, month = date.year + months // 12, months % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(max(due_days, 1), last))
