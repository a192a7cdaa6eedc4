"""CSV cells that a spreadsheet would run as a formula (CSV or formula injection, OWASP).

Excel, LibreOffice and Google Sheets read a cell that starts with = + - @ (and, in some of them,
a tab or a carriage return) as a formula: free text typed at a site ("=HYPERLINK(...)", "-2+3")
would run on a data manager's computer. Every CSV this eCRF writes passes its cells through
`spreadsheet_safe`, which puts an apostrophe in front of such a cell: the cell is then text in
every spreadsheet, and a reader still sees what was typed, after the apostrophe. A plain number
("-3", "+1.5", "-2.5e-3") is not a formula and stays as it is, so negative study days and values
remain numbers. `spreadsheet_unquote` takes the apostrophe off again where the eCRF reads its own
CSV back (the import bundle).
"""

import re

# The first characters that make a spreadsheet evaluate a cell (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The apostrophe most spreadsheets already take as "this cell is text".
TEXT_MARK = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates (see the module docstring)."""
    if cell.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(cell):
        return TEXT_MARK + cell
    return cell


def spreadsheet_unquote(cell: str) -> str:
    """The value as entered, from a cell that `spreadsheet_safe` marked as text."""
    if cell.startswith(TEXT_MARK) and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
