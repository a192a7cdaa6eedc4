"""The CSV bundle: one ZIP of CSV files, one per form, read as the JSON bundle (docs/import.md).

read_csv_bundle() turns the ZIP into the JSON bundle and a map from each record's path in
that bundle ("patients[1].labs[0]") to the CSV file and line it came from. The JSON bundle
then goes through the same Importer (same validation, services, history and natural keys),
and csv_errors() rewrites its error list with the map, so that every error names the file,
the line and the column: {"row": "labs.csv line 14", "field": "value", "message": ...}.

Errors of the CSV itself (an unknown file or column, a missing key column, a row naming a
child who is not in screenings.csv, a yes/no cell that is not true/false/empty) are found
while reading and reported the same way; the rest of the bundle is still checked by the
import without writing anything (located_bundle_import), so that every error is listed at once.

bundle_to_csv_files() / bundle_to_csv_zip() write a JSON bundle as the CSV files: the
template for a migration, and the demo data as CSV (api/fixtures/demo_bundle_csv/).
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

from django.apps import apps
from django.db import models

from api import bundle_zip
from api.bundle_zip import BundleTooLarge
from api.importing import FORMAT, ImportFailed, ImportResult, bundle_import
from api.inputs import (
    DEATH_AT_FOLLOW_UP,
    DOSE_FIELDS,
    ENROLL_FIELDS,
    FOLLOW_UP_FIELDS,
    FORMER_ENROLL_NAMES,
    TREATMENT_END_FIELDS,
    current_names,
)
from assessments.services.adverse_events import AE_FIELDS
from assessments.services.labs import PANEL_FIELDS
from exports.spreadsheet import spreadsheet_safe, spreadsheet_unquote
from patients.forms import SCREENING_FIELDS

KEY = ("site", "screening_number")
LAB_VALUE_COLUMNS = ("analyte", "value", "unit", "missing", "missing_reason")
LAB_VISIT_COLUMNS = ("visit_date", *PANEL_FIELDS)  # one value per visit, on any of its rows
FILES: dict[str, tuple[str, ...]] = {
    "screenings.csv": (*KEY, *SCREENING_FIELDS),
    "enrollments.csv": (*KEY, *ENROLL_FIELDS),
    "labs.csv": (*KEY, "visit", "visit_date", "sampled_at", *LAB_VALUE_COLUMNS, *PANEL_FIELDS),
    "doses.csv": (*KEY, *DOSE_FIELDS),
    "adverse_events.csv": (*KEY, "term_code", *(name for name in AE_FIELDS if name != "term")),
    "treatment_ends.csv": (*KEY, *TREATMENT_END_FIELDS),
    # A follow-up that reports a death carries the death's fields, as POST /follow-ups/ does.
    "follow_ups.csv": (*KEY, *FOLLOW_UP_FIELDS, *DEATH_AT_FOLLOW_UP),
}
REQUIRED_COLUMNS = {name: KEY for name in FILES} | {"labs.csv": (*KEY, "visit")}
# The columns a file is read with: its own, and the former names still read (docs/import.md).
READ_COLUMNS = {name: columns for name, columns in FILES.items()} | {
    "enrollments.csv": (*FILES["enrollments.csv"], *FORMER_ENROLL_NAMES)
}
# The patient parts that are lists in the JSON bundle, by file (labs are grouped by visit).
LIST_PARTS = {"doses.csv": "doses", "adverse_events.csv": "adverse_events", "follow_ups.csv": "follow_ups"}
PART_FILES = ("labs.csv", "doses.csv", "adverse_events.csv", "treatment_ends.csv", "follow_ups.csv")

# The form each file's columns belong to: a column is read as true/false or as a whole number
# when its field is one in that form's model (the catalogue's), or in the death a follow-up reports.
FILE_FORMS = {
    "screenings.csv": ("patients.screening",),
    "enrollments.csv": ("patients.patient",),
    "labs.csv": ("assessments.labpanel", "assessments.labresult"),
    "doses.csv": ("patients.doseadministration",),
    "adverse_events.csv": ("assessments.adverseevent",),
    "treatment_ends.csv": ("patients.treatmentend",),
    "follow_ups.csv": ("patients.followup",),
}
# Input flags and renamed fields: what they are in the model they stand for.
COLUMN_FIELDS = {"confirm_short_interval": models.BooleanField(), "death_hlh_related": models.BooleanField()}


def _columns_of_type(kind: type[models.Field]) -> dict[str, set[str]]:
    out = {}
    for file, labels in FILE_FORMS.items():
        typed = {
            f.name
            for label in labels
            for f in apps.get_model(label)._meta.concrete_fields
            if isinstance(f, kind) and not f.is_relation and not f.primary_key
        }
        typed |= {name for name, f in COLUMN_FIELDS.items() if isinstance(f, kind)}
        out[file] = typed & set(FILES[file])
    return out


BOOLEAN_COLUMNS = _columns_of_type(models.BooleanField)
INTEGER_COLUMNS = _columns_of_type(models.IntegerField)
INVALID = object()  # a cell that is reported as an error and left out of the bundle
# The import names a few fields differently from the CSV columns.
COLUMN_OF_FIELD = {"term": "term_code"}


def _error(file: str, line: int | None, column: str | None, message: str, code: str) -> dict:
    row = file if line is None else f"{file} line {line}"
    return {"row": row, "field": column, "code": code, "message": message}


@dataclass
class Row:
    file: str
    line: int
    cells: dict[str, str]  # the non-empty cells, by column

    @property
    def key(self) -> tuple[str, str]:
        return (self.cells.get("site", ""), self.cells.get("screening_number", ""))


@dataclass
class Child:
    row: Row  # its screenings.csv row
    screening: dict
    enrollment: Row | None = None
    panels: dict[str, dict] = field(default_factory=dict)  # by visit code, in file order
    parts: dict[str, list[tuple[Row, dict]]] = field(default_factory=dict)
    treatment_end: tuple[Row, dict] | None = None


class CsvBundleReader:
    def __init__(self):
        self.errors: list[dict] = []
        # JSON path -> [file, line, {field: line}] (the field lines of a lab panel's rows)
        self.locations: dict[str, list] = {}

    def error(self, file: str, line: int | None, column: str | None, message: str, *, code: str) -> None:
        self.errors.append(_error(file, line, column, message, code))

    # The ZIP and its files

    def convert(self, source: bytes | BinaryIO) -> tuple[dict | None, dict, list[dict]]:
        """The JSON bundle, the locations of its records and the errors of the CSV files.

        The bundle is None when the ZIP, screenings.csv or enrollments.csv cannot be read; else
        it holds every row that could be read (the rows with an error are left out). Raises
        BundleTooLarge, naming the limit, before any row is read when the ZIP exceeds one.
        """
        try:
            tables = self.tables(source)
        except ImportFailed as exc:
            return None, {}, exc.errors
        # Without the children (screenings.csv, enrollments.csv) every other row would be an error too.
        if tables.get("screenings.csv") is None or tables.get("enrollments.csv", []) is None:
            return None, {}, in_file_order(self.errors)
        bundle = self.bundle({name: rows for name, rows in tables.items() if rows is not None})
        return bundle, self.locations, in_file_order(self.errors)

    def tables(self, source: bytes | BinaryIO) -> dict[str, list[Row] | None]:
        """The rows of each file by name; None for a file that cannot be read (its errors are listed)."""
        try:
            archive = bundle_zip.open_archive(source)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError):
            raise ImportFailed(
                [_error("", None, None, "The bundle is not a ZIP file of CSV files.", "not_a_zip")]
            ) from None
        members = [info for info in archive.infolist() if not bundle_zip.ignored(info.filename)]
        bundle_zip.declared_sizes_check(members)
        found: dict[str, str] = {}
        known: list[tuple[str, zipfile.ZipInfo]] = []
        for info in members:
            name = PurePosixPath(info.filename).name.lower()
            if name not in FILES:
                self.error(
                    info.filename, None, None, f"Unknown file; the files are {', '.join(FILES)}.", code="unknown_file"
                )
            elif name in found:
                self.error(
                    info.filename,
                    None,
                    None,
                    f"{name} is in the ZIP twice (also {found[name]}).",
                    code="duplicate_file",
                )
            else:
                found[name] = info.filename
                known.append((name, info))
        # First every file's real size and text, so that a bundle over a limit is refused before a row is built.
        budget = bundle_zip.Budget()
        readable = []
        tables: dict[str, list[Row] | None] = {}
        for name, info in known:
            problem = bundle_zip.text_problem(archive, info, budget)
            if problem is None:
                readable.append((name, info))
            else:
                self.error(name, problem[0], None, problem[1], code="unreadable_text")
                tables[name] = None
        budget = bundle_zip.Budget()
        for name, info in readable:
            with bundle_zip.text_stream(archive, info, budget) as text:
                tables[name] = self.parse(name, text)
        if "screenings.csv" not in found:
            self.error(
                "screenings.csv",
                None,
                None,
                "The ZIP has no screenings.csv (one row per screened child).",
                code="missing_file",
            )
        return tables

    def parse(self, name: str, text) -> list[Row] | None:
        """The rows of one CSV file, read line by line from its text stream."""
        reader = csv.reader(text)
        header: list[str] | None = None
        rows: list[Row] = []
        start = 1
        try:
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in cells):
                    continue
                if header is None:
                    header = [cell.strip() for cell in cells]
                    if not self.header_usable(name, header, line):
                        return None
                    continue
                if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
                    self.error(
                        name,
                        line,
                        None,
                        f"The line has {len(cells)} cells; the header has {len(header)}.",
                        code="cell_count",
                    )
                    continue
                row = Row(name, line, {})
                for column, cell in zip(header, cells, strict=False):
                    if cell.strip() and column in READ_COLUMNS[name]:
                        row.cells[column] = spreadsheet_unquote(cell.strip())
                    elif cell.strip() and not column:
                        self.error(
                            name,
                            line,
                            None,
                            "A cell under a column without a name in the header.",
                            code="unnamed_column",
                        )
                rows.append(row)
        except csv.Error as exc:
            self.error(name, reader.line_num, None, f"Not a valid CSV line ({exc}).", code="not_csv")
            return None
        except bundle_zip.READ_ERRORS as exc:
            self.error(name, None, None, f"The file cannot be read from the ZIP ({exc}).", code="unreadable_file")
            return None
        return rows

    def header_usable(self, name: str, header: list[str], line: int) -> bool:
        """Check the header row; unknown columns are errors, a missing key column makes the file unusable."""
        if len(header) == 1 and ";" in header[0]:
            self.error(
                name,
                line,
                None,
                "The columns are separated by semicolons; save the file as CSV UTF-8 (commas).",
                code="not_comma_separated",
            )
            return False
        seen: set[str] = set()
        for column in header:
            if not column:
                continue
            if column not in READ_COLUMNS[name]:
                self.error(
                    name,
                    line,
                    column,
                    f"Unknown column '{column}'; see docs/import.md for the columns of {name}.",
                    code="unknown_column",
                )
            elif column in seen:
                self.error(
                    name, line, column, f"The column '{column}' is in the header twice.", code="duplicate_column"
                )
            seen.add(column)
        missing = [column for column in REQUIRED_COLUMNS[name] if column not in seen]
        for column in missing:
            self.error(name, line, column, f"Missing column '{column}'.", code="missing_column")
        return not missing

    # Cells as JSON values

    def value(self, row: Row, column: str):
        text = row.cells[column]
        if column in BOOLEAN_COLUMNS[row.file]:
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            self.error(
                row.file,
                row.line,
                column,
                f"Enter true, false or leave empty (not known); entered '{text}'.",
                code="not_boolean",
            )
            return INVALID
        whole = re.fullmatch(r"[+-]?[0-9]{1,9}", text)  # ASCII digits; others stay text
        if column in INTEGER_COLUMNS[row.file] and whole:
            return int(text)
        return text  # numbers stay text: decimals exact; the import checks them

    def record(self, row: Row, columns) -> dict:
        values = {column: self.value(row, column) for column in columns if column in row.cells}
        return {column: value for column, value in values.items() if value is not INVALID}

    # The bundle

    def bundle(self, tables: dict[str, list[Row]]) -> dict:
        children: dict[tuple[str, str], Child] = {}
        for row in tables.get("screenings.csv", []):
            if not self.key_given(row):
                continue
            if row.key in children:
                self.error(
                    row.file, row.line, "screening_number", self.twice(row, children[row.key].row), code="duplicate_row"
                )
                continue
            children[row.key] = Child(row=row, screening=self.record(row, SCREENING_FIELDS))
        for row in tables.get("enrollments.csv", []):
            child = self.child_of(row, children, enrolled=False)
            if child is None:
                continue
            if child.enrollment is not None:
                self.error(
                    row.file, row.line, "screening_number", self.twice(row, child.enrollment), code="duplicate_row"
                )
                continue
            child.enrollment = row
        for name in PART_FILES:
            for row in tables.get(name, []):
                child = self.child_of(row, children, enrolled=True)
                if child is None:
                    continue
                if name == "labs.csv":
                    self.lab_row(child, row)
                elif name == "treatment_ends.csv":
                    if child.treatment_end is not None:
                        self.error(
                            row.file,
                            row.line,
                            "screening_number",
                            self.twice(row, child.treatment_end[0]),
                            code="duplicate_row",
                        )
                        continue
                    child.treatment_end = (row, self.record(row, FILES[name][2:]))
                else:
                    child.parts.setdefault(LIST_PARTS[name], []).append((row, self.record(row, FILES[name][2:])))
        return self.assemble(list(children.values()))

    def key_given(self, row: Row) -> bool:
        missing = [column for column in KEY if not row.cells.get(column)]
        for column in missing:
            self.error(
                row.file, row.line, column, "Every row names its child by site and screening_number.", code="required"
            )
        return not missing

    @staticmethod
    def twice(row: Row, first: Row) -> str:
        site, number = row.key
        return f"{number} at site {site} is already on line {first.line} of {row.file}."

    def child_of(self, row: Row, children: dict, *, enrolled: bool) -> Child | None:
        if not self.key_given(row):
            return None
        child = children.get(row.key)
        site, number = row.key
        if child is None:
            self.error(
                row.file,
                row.line,
                "screening_number",
                f"No child {number} at site {site} in screenings.csv.",
                code="unknown_child",
            )
            return None
        if enrolled and child.enrollment is None:
            self.error(
                row.file,
                row.line,
                "screening_number",
                f"{number} at site {site} has no row in enrollments.csv; only an enrolled child has {row.file}.",
                code="not_enrolled",
            )
            return None
        return child

    def lab_row(self, child: Child, row: Row) -> None:
        """A row of the long lab table: one value of a visit's panel, and any of the visit's own fields."""
        visit = row.cells.get("visit")
        if not visit:
            self.error(
                row.file,
                row.line,
                "visit",
                "Give the visit code (BASE, D1-D7, D14, D21, D28, FU56-FU182).",
                code="required",
            )
            return
        panel = child.panels.setdefault(visit, {"line": row.line, "item": {"visit": visit}, "lines": {}, "values": []})
        item, lines = panel["item"], panel["lines"]
        for column in LAB_VISIT_COLUMNS:
            if column not in row.cells:
                continue
            value = self.value(row, column)
            if value is INVALID:
                continue
            if column in item and item[column] != value:
                self.error(
                    row.file,
                    row.line,
                    column,
                    f"Visit {visit} has {column} '{row.cells[column]}' here but another value on line {lines[column]}.",
                    code="conflicting_value",
                )
                continue
            item.setdefault(column, value)
            lines.setdefault(column, row.line)
        sampled_at = row.cells.get("sampled_at")
        if sampled_at and "sampled_at" not in item:
            item["sampled_at"], lines["sampled_at"] = sampled_at, row.line  # the visit's sampling time
        if not any(column in row.cells for column in LAB_VALUE_COLUMNS):
            return  # a row of the visit's own fields only
        if "analyte" not in row.cells:
            self.error(
                row.file, row.line, "analyte", "Give the analyte code (see GET /api/v1/analytes/).", code="required"
            )
            return
        value = {column: row.cells[column] for column in LAB_VALUE_COLUMNS if column in row.cells}
        if sampled_at and sampled_at != item["sampled_at"]:
            value["sampled_at"] = sampled_at
        lines[f"values[{len(panel['values'])}]"] = row.line
        panel["values"].append(value)

    def locate(self, path: str, row: Row, lines: dict | None = None) -> None:
        self.locations[path] = [row.file, row.line, lines or {}]

    def assemble(self, children: list[Child]) -> dict:
        """Screening-only children first, then the enrolled ones, each in the order of screenings.csv."""
        screenings, patients = [], []
        for child in children:
            site, number = child.row.key
            record = {"site": site, "screening_number": number, "screening": child.screening}
            if child.enrollment is None:
                path = f"screenings[{len(screenings)}]"
                screenings.append(record)
                self.locate(path, child.row)
                continue
            path = f"patients[{len(patients)}]"
            patients.append(record)
            self.locate(path, child.row)
            record["enrollment"] = self.record(child.enrollment, READ_COLUMNS["enrollments.csv"][len(KEY) :])
            self.locate(f"{path}.enrollment", child.enrollment)
            if child.panels:
                record["labs"] = []
                for panel in child.panels.values():
                    self.locations[f"{path}.labs[{len(record['labs'])}]"] = ["labs.csv", panel["line"], panel["lines"]]
                    record["labs"].append({**panel["item"], "values": panel["values"]})
            for part in ("doses", "adverse_events"):
                for index, (row, item) in enumerate(child.parts.get(part, [])):
                    record.setdefault(part, []).append(item)
                    self.locate(f"{path}.{part}[{index}]", row)
            if child.treatment_end is not None:
                record["treatment_end"] = child.treatment_end[1]
                self.locate(f"{path}.treatment_end", child.treatment_end[0])
            for index, (row, item) in enumerate(child.parts.get("follow_ups", [])):
                record.setdefault("follow_ups", []).append(item)
                self.locate(f"{path}.follow_ups[{index}]", row)
        bundle: dict = {"format": FORMAT}
        if screenings:
            bundle["screenings"] = screenings
        if patients:
            bundle["patients"] = patients
        return bundle


def _converted(source: bytes | BinaryIO) -> tuple[dict | None, dict, list[dict]]:
    """CsvBundleReader.convert, a limit exceeded being one more error (for the command and the tests)."""
    try:
        return CsvBundleReader().convert(source)
    except BundleTooLarge as exc:
        return None, {}, [_error("", None, None, str(exc), "too_large")]


def read_csv_bundle(data: bytes | BinaryIO) -> tuple[dict, dict]:
    """The JSON bundle of a CSV ZIP and the map of its records' paths to [file, line, {field: line}].

    Raises ImportFailed with every error of the CSV files (by file, line and column).
    """
    bundle, locations, errors = _converted(data)
    if errors:
        raise ImportFailed(errors)
    return bundle, locations


_LAST_STEP = re.compile(r"(\.[^.\[]+|\[\d+\])$")
_VALUE_FIELD = re.compile(r"(values\[\d+\])\.(.+)")


def csv_error(error: dict, locations: dict) -> dict:
    """One import error with its JSON path rewritten as the CSV file, line and column."""
    path = error["row"]
    while path and path not in locations:
        path = _LAST_STEP.sub("", path) if _LAST_STEP.search(path) else ""
    if not path:
        return error
    file, line, lines = locations[path]
    column = error["field"]
    if column:
        if match := _VALUE_FIELD.fullmatch(column):
            line, column = lines.get(match[1], line), match[2]
        else:
            line, column = lines.get(column, line), COLUMN_OF_FIELD.get(column, column)
    return _error(file, line, column, error["message"], error["code"])


def in_file_order(errors: list[dict]) -> list[dict]:
    """CSV errors by file (screenings.csv first, as in FILES) and line; the ZIP's own first."""
    order = {name: index for index, name in enumerate(FILES)}

    def key(error: dict) -> tuple[int, int]:
        file, _, line = error["row"].partition(" line ")
        return (order.get(file, -1), int(line) if line.isdigit() else 0)

    return sorted(errors, key=key)


def csv_errors(errors: list[dict], locations: dict) -> list[dict]:
    return [csv_error(error, locations) for error in errors]


def located_bundle_import(
    *, bundle: dict, locations: dict, errors: list[dict] = (), user, progress=None, today=None
) -> ImportResult:
    """bundle_import of a CSV bundle read into JSON: every error by file, line and column.

    `errors` are those found in the CSV files; the bundle (the rows without them) is still
    checked by the import, so that every error is listed at once, and nothing is written.
    """
    try:
        result = bundle_import(bundle=bundle, user=user, progress=progress, today=today, check_only=bool(errors))
    except ImportFailed as exc:
        raise ImportFailed(in_file_order([*errors, *csv_errors(exc.errors, locations)])) from None
    if errors:
        raise ImportFailed(list(errors))
    return result


def csv_bundle_import(*, data: bytes | BinaryIO, user, progress=None, today=None) -> ImportResult:
    """Import a CSV ZIP as bundle_import does a JSON bundle (all or nothing, idempotent)."""
    bundle, locations, errors = _converted(data)
    if bundle is None:
        raise ImportFailed(errors)
    return located_bundle_import(
        bundle=bundle, locations=locations, errors=errors, user=user, progress=progress, today=today
    )


# JSON bundle -> CSV files


def _cell(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _lab_rows(site: str, number: str, panel: dict) -> list[dict]:
    """A panel as rows of the long table: one per value; the visit's own fields on its first row."""
    visit_fields = {"visit": panel.get("visit"), **{c: panel[c] for c in LAB_VISIT_COLUMNS if c in panel}}
    default = panel.get("sampled_at")
    values = list(panel.get("values") or [])
    rows = []
    if not values or (values[0].get("sampled_at") or default) != default:
        rows.append({"sampled_at": default})  # the visit's sampling time is its first row's
    for value in values:
        rows.append({"sampled_at": value.get("sampled_at") or default, **{c: value.get(c) for c in LAB_VALUE_COLUMNS}})
    rows[0].update(visit_fields)
    for row in rows:
        row.update(site=site, screening_number=number, visit=panel.get("visit"))
    return rows


def bundle_to_csv_files(bundle: dict) -> dict[str, str]:
    """The CSV files of a JSON bundle, by name; every file with all its columns (a template)."""
    rows: dict[str, list[dict]] = {name: [] for name in FILES}
    children = [*(bundle.get("screenings") or []), *(bundle.get("patients") or [])]
    for child in children:
        key = {"site": child.get("site"), "screening_number": child.get("screening_number")}
        rows["screenings.csv"].append({**key, **(child.get("screening") or {})})
        if child.get("enrollment"):
            rows["enrollments.csv"].append({**key, **current_names(child["enrollment"], FORMER_ENROLL_NAMES)})
        for panel in child.get("labs") or []:
            rows["labs.csv"].extend(_lab_rows(key["site"], key["screening_number"], panel))
        for name, part in LIST_PARTS.items():
            rows[name].extend({**key, **item} for item in child.get(part) or [])
        if child.get("treatment_end"):
            rows["treatment_ends.csv"].append({**key, **child["treatment_end"]})
    files = {}
    for name, columns in FILES.items():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows[name]:
            writer.writerow([spreadsheet_safe(_cell(row.get(column))) for column in columns])
        files[name] = out.getvalue()
    return files


def bundle_to_csv_zip(bundle: dict) -> bytes:
    """A JSON bundle as the CSV ZIP that read_csv_bundle reads back."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in bundle_to_csv_files(bundle).items():
            archive.writestr(name, text.encode("utf-8"))
    return out.getvalue()
