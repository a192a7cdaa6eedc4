"""The spreadsheet guard for CSV cells lives in trial.spreadsheet (pure, so every app may use it:
the query list's CSV export is in the queries app, a layer below exports)."""

from trial.spreadsheet import FORMULA_STARTS, TEXT_MARK, spreadsheet_safe, spreadsheet_unquote

__all__ = ["FORMULA_STARTS", "TEXT_MARK", "spreadsheet_safe", "spreadsheet_unquote"]
