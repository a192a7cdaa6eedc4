"""The catalogue walked through the documents a monitor and a data manager read: every form the
casebook prints is in the casebook, in its CSV table and in the ODM export, record by record.

A form added to the catalogue without its export table or casebook section fails here.
"""

import csv
import io
import zipfile
from datetime import timedelta
from html import unescape

import pytest
from lxml import etree

from assessments.models import LabPanel, ResponseAssessment
from assessments.services.responses import response_confirm
from crf.catalogue import printed_forms
from exports.casebook import field_display
from exports.documents import document_html
from exports.models import GeneratedDocument
from exports.odm import NS, odm_document
from exports.tabular import FORMS as TABLES
from exports.tabular import csv_zip_stream
from patients.services import follow_up_record
from tests.review.test_refused_writes import DAY0, build_world

pytestmark = pytest.mark.django_db


def _table_of(form):
    tables = [t for t in TABLES if t.rows(set()).model is form.model]
    assert len(tables) == 1, f"{form.label}: {len(tables)} export tables"
    return tables[0]


def test_every_printed_form_has_one_export_table():
    for form in printed_forms():
        _table_of(form)


def _records(form, patient):
    if form.patient_field is None:  # the screening: the patient points to it
        return list(form.model.objects.filter(pk=patient.screening_id))
    return list(form.model.objects.filter(**{form.patient_field: patient.pk}))


@pytest.fixture
def world(clinician, data_manager):
    world = build_world(clinician, data_manager, ended=True, dead=True)
    follow_up_record(patient=world.patient, assessed_on=DAY0 + timedelta(days=35), vital_status="alive", user=clinician)
    assessment = ResponseAssessment.objects.filter(patient=world.patient).order_by("study_day").first()
    response_confirm(
        assessment_id=assessment.pk,
        status="pr",
        reason="Spleen still palpable on examination",
        expected_version=assessment.version,
        user=clinician,
    )
    # The day-7 panel's free text, so that the panel has an entered value of its own to look for.
    LabPanel.objects.filter(patient=world.patient).update(notes="Echocardiogram: normal ventricular function")
    return world


def test_every_record_of_every_printed_form_is_in_the_casebook_the_csv_and_the_odm(world, monitor):
    patient = world.patient
    document = GeneratedDocument.objects.create(kind="casebook", patient=patient, requested_by=monitor)
    casebook = unescape(document_html(document))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(csv_zip_stream(site_ids={patient.site_id}))))
    odm = etree.fromstring(odm_document(site_ids={patient.site_id}))
    for form in printed_forms():
        records = _records(form, patient)
        assert records, f"the world has no {form.label} record to walk"
        table = _table_of(form)
        rows = list(csv.DictReader(io.StringIO(archive.read(f"{table.name}.csv").decode("utf-8"))))
        assert len(rows) == len(records), f"{form.label}: {len(rows)} CSV rows for {len(records)} records"
        groups = odm.xpath(f"//odm:ItemGroupData[@ItemGroupOID='IG.{table.name.upper()}']", namespaces={"odm": NS})
        assert len(groups) == len(records), f"{form.label}: {len(groups)} ODM item groups for {len(records)} records"
        assert str(form.title) in casebook, f"{form.label}: no section '{form.title}' in the casebook"
        looked_for = 0
        for record in records:  # a visit not yet done has nothing entered: its neighbours are looked for
            entered = form.fields or tuple(name for name, _ in form.labelled_fields)  # a panel's values: their own
            names = [name for name in entered if name in _own_fields(record)]
            shown = [field_display(record, name) for name in names]
            values = [v for v in shown if v not in ("—", "Yes", "No")]
            missing = [v for v in values if v not in casebook]
            assert not missing, f"{form.label} {record.pk}: {missing} not in the casebook"
            looked_for += len(values)
        assert looked_for, f"{form.label}: nothing entered to look for"


def _own_fields(record) -> set[str]:
    """The record's own values: not its links, nor its times (printed in the site's zone, test_documents)."""
    return {
        f.name for f in record._meta.concrete_fields if not f.is_relation and f.get_internal_type() != "DateTimeField"
    }
