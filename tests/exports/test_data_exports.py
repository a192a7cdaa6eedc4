"""CSV zip and CDISC ODM exports, read back and compared with the database."""

import csv
import io
import zipfile

import pytest
from django.urls import reverse
from lxml import etree

from assessments.models import AdverseEvent, LabResult
from exports.models import DownloadLog
from exports.odm import NS, odm_document, odm_validate
from exports.tabular import FORMS, csv_zip_stream
from patients.models import DoseAdministration, Patient
from tests.conftest import PASSWORD, enroll_child
from tests.exports.conftest import build_patient

pytestmark = pytest.mark.django_db


def read_zip(data: bytes) -> dict[str, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8")))) for name in archive.namelist()}


@pytest.fixture
def cohort(site_a, site_b, clinician, clinician_b):
    mine = build_patient(site_a, clinician, through_day=14)
    theirs = enroll_child(site_b, clinician_b)
    return mine, theirs


def test_csv_zip_has_every_form_and_the_dictionary_and_matches_the_database(all_ages_ranges_only, cohort, site_a):
    """(The ferritin's flag below is judged by the all-ages range the cohort was written for.)"""
    mine, theirs = cohort
    files = read_zip(b"".join(csv_zip_stream(site_ids={site_a.pk})))
    assert set(files) == {"data_dictionary.csv"} | {f"{form.name}.csv" for form in FORMS}
    # Only the user's sites.
    assert [row["SUBJID"] for row in files["patients.csv"]] == [mine.subject_number]
    assert theirs.subject_number not in str(files)
    labs = files["lab_results.csv"]
    assert len(labs) == LabResult.objects.filter(patient=mine).count()
    ferritin = next(r for r in labs if r["LBTESTCD"] == "FERRITIN" and r["VISIT"] == "Day 7 (efficacy)")
    assert (ferritin["LBORRES"], ferritin["LBORRESU"], ferritin["LBNRIND"]) == ("320", "µg/L", "N")
    assert ferritin["LBDTC"] == "2026-03-10T00:00:00Z"  # 08:00 Shanghai, ISO 8601 in UTC
    assert len(files["doses.csv"]) == DoseAdministration.objects.filter(patient=mine).count() == 28
    ae = files["adverse_events.csv"][0]
    assert (ae["AETERMCD"], ae["AETOXGR"], ae["AESTDTC"]) == ("IN102", "3", "2026-03-06")
    assert len(files["adverse_events.csv"]) == AdverseEvent.objects.filter(patient=mine).count()
    # The dictionary names every variable of every file, once.
    dictionary = {(r["form"], r["variable"]) for r in files["data_dictionary.csv"]}
    for form in FORMS:
        with_header = files[f"{form.name}.csv"]
        header = list(with_header[0].keys()) if with_header else [c.name for c in form.columns]
        assert {(form.name, v) for v in header} <= dictionary
    lbtestcd = next(r for r in files["data_dictionary.csv"] if r["variable"] == "LBTESTCD")
    assert "FERRITIN" in lbtestcd["allowed_values"]
    assert not [name for name in files["screening.csv"][0] if "INITIALS" in name]


def test_csv_zip_is_streamed_and_the_download_logged(client, cohort, data_manager, site_b):
    client.login(username=data_manager.username, password=PASSWORD)
    response = client.get(reverse("csv_zip_download"))
    assert response.status_code == 200 and response.streaming
    files = read_zip(b"".join(response.streaming_content))
    assert [r["SUBJID"] for r in files["patients.csv"]] == [cohort[0].subject_number]
    assert DownloadLog.objects.filter(user=data_manager, export="csv_zip").count() == 1


def test_odm_validates_against_the_schema_and_matches_the_database(cohort, site_a, client, monitor):
    mine, _ = cohort
    document = odm_document(site_ids={site_a.pk})
    assert odm_validate(document) == []
    root = etree.fromstring(document)
    ns = {"odm": NS}
    assert root.get("ODMVersion") == "1.3.2"
    assert root.xpath("//odm:FormDef/@OID", namespaces=ns)[:2] == ["F.PATIENTS", "F.VISITS"]
    assert root.xpath("//odm:CodeList[@OID='CL.ADVERSE_EVENTS.AEREL']/odm:CodeListItem/@CodedValue", namespaces=ns)
    subjects = root.xpath("//odm:SubjectData/@SubjectKey", namespaces=ns)
    assert subjects == [mine.subject_number]
    values = root.xpath(
        "//odm:ItemGroupData[@ItemGroupOID='IG.LAB_RESULTS']/odm:ItemData[@ItemOID='IT.LAB_RESULTS.LBORRES']/@Value",
        namespaces=ns,
    )
    assert sorted(values) == sorted(f"{v.normalize():f}" for v in LabResult.objects.values_list("value", flat=True))
    audit = root.xpath("//odm:ItemGroupData[@ItemGroupOID='IG.PATIENTS']/odm:AuditRecord", namespaces=ns)[0]
    assert audit.find(f"{{{NS}}}DateTimeStamp").text.startswith(str(Patient.history.latest().history_date.year))
    # The page download is logged.
    client.login(username=monitor.username, password=PASSWORD)
    response = client.get(reverse("odm_download"))
    assert response.status_code == 200 and odm_validate(b"".join(response.streaming_content)) == []
    assert DownloadLog.objects.filter(user=monitor, export="odm").exists()


def test_an_invalid_odm_is_reported():
    bad = f'<ODM xmlns="{NS}" FileType="Snapshot"/>'.encode()
    assert odm_validate(bad)


def test_clinicians_do_not_download_study_wide_exports(client, clinician):
    client.login(username=clinician.username, password=PASSWORD)
    assert client.get(reverse("csv_zip_download")).status_code == 403
    assert client.get(reverse("odm_download")).status_code == 403
    assert not DownloadLog.objects.exists()


def test_odm_carries_a_valid_casebook_signature_and_drops_a_broken_one(site_a, clinician):
    from review.services import signature_sign

    patient = enroll_child(site_a, clinician)
    signature_sign(patient=patient, user=clinician, password=PASSWORD)
    ns = {"odm": NS}
    document = odm_document(site_ids={site_a.pk})
    assert odm_validate(document) == []
    root = etree.fromstring(document)
    signed = root.xpath(f"//odm:SubjectData[@SubjectKey='{patient.subject_number}']/odm:Signature", namespaces=ns)
    assert len(signed) == 1
    assert signed[0].xpath("odm:UserRef/@UserOID", namespaces=ns) == [f"USR.{clinician.pk}"]
    assert signed[0].xpath("odm:SignatureRef/@SignatureOID", namespaces=ns) == ["SD.INVESTIGATOR"]
    assert root.xpath("//odm:SignatureDef[@OID='SD.INVESTIGATOR']/odm:Meaning", namespaces=ns)
    assert root.xpath(f"//odm:User[@OID='USR.{clinician.pk}']", namespaces=ns)

    # A later change breaks the signature: it no longer signs the exported data.
    from crf.writes import record_save

    patient.refresh_from_db()
    patient.status = patient.status
    record_save(record=patient, user=clinician, reason="Data corrected after signing")
    root = etree.fromstring(odm_document(site_ids={site_a.pk}))
    assert not root.xpath("//odm:Signature", namespaces=ns)


def test_odm_audit_record_is_each_records_latest_history_row(site_a, clinician, coordinator):
    """The AuditRecord of a record saved three times by two users is its newest history row (who, when, why)."""
    from crf.writes import record_save

    patient = enroll_child(site_a, clinician)
    for user, reason in ((coordinator, "Weight re-read"), (clinician, "Initials corrected")):
        patient.refresh_from_db()
        record_save(record=patient, user=user, reason=reason)
    rows = list(Patient.history.filter(id=patient.pk).order_by("history_id"))
    assert len(rows) == 3
    newest = max(Patient.history.filter(id=patient.pk), key=lambda r: (r.history_date, r.history_id))
    assert newest.history_change_reason == "Initials corrected"

    ns = {"odm": NS}
    root = etree.fromstring(odm_document(site_ids={site_a.pk}))
    audits = root.xpath("//odm:ItemGroupData[@ItemGroupOID='IG.PATIENTS']/odm:AuditRecord", namespaces=ns)
    assert len(audits) == 1
    assert audits[0].xpath("odm:UserRef/@UserOID", namespaces=ns) == [f"USR.{clinician.pk}"]
    assert audits[0].xpath("odm:ReasonForChange/text()", namespaces=ns) == ["Initials corrected"]
    assert audits[0].xpath("odm:DateTimeStamp/text()", namespaces=ns) == [newest.history_date.isoformat()]
    # At most one AuditRecord per exported record of any form, whatever its number of history rows.
    assert all(len(g.findall(f"{{{NS}}}AuditRecord")) <= 1 for g in root.xpath("//odm:ItemGroupData", namespaces=ns))


def test_csv_zip_for_excel_starts_each_file_with_the_byte_order_mark(client, cohort, data_manager):
    client.login(username=data_manager.username, password=PASSWORD)
    plain = zipfile.ZipFile(io.BytesIO(b"".join(client.get(reverse("csv_zip_download")).streaming_content)))
    excel = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(reverse("csv_zip_download"), {"excel": "1"}).streaming_content))
    )
    assert plain.namelist() == excel.namelist()
    for name in excel.namelist():
        with_mark, without = excel.read(name), plain.read(name)
        assert with_mark.startswith(b"\xef\xbb\xbf"), name
        assert not without.startswith(b"\xef\xbb\xbf"), name
        # The same text after the mark: only the first three bytes differ.
        assert with_mark[3:] == without
    # Read as Excel does (utf-8-sig drops the mark): the same rows as the plain file; lines end CRLF.
    patients = excel.read("patients.csv")
    assert (
        list(csv.DictReader(io.StringIO(patients.decode("utf-8-sig"))))
        == read_zip(b"".join(client.get(reverse("csv_zip_download")).streaming_content))["patients.csv"]
    )
    assert b"\r\n" in patients and b"\n" not in patients.replace(b"\r\n", b"")


def test_exports_page_offers_the_excel_option(client, data_manager):
    client.login(username=data_manager.username, password=PASSWORD)
    page = client.get(reverse("exports_home")).content.decode()
    assert 'name="excel" value="1"' in page
