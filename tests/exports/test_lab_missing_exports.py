"""A lab value recorded with a missing-data code in the exports: the CSV's LB domain says
LBSTAT="NOT DONE" with the code and reason, the ODM has a null ItemData annotated with the code
(a Flag) and the reason (a Comment), valid against the ODM 1.3.2 schema; both read back."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from lxml import etree

from assessments.models import LabResult, Visit
from assessments.services.labs import Measurement, lab_panel_save
from exports.odm import NS, odm_document, odm_validate
from exports.tabular import csv_zip_stream
from tests.conftest import DAY0, enroll_child
from tests.exports.conftest import SHANGHAI
from tests.exports.test_data_exports import read_zip

pytestmark = pytest.mark.django_db

REASON = "Analyser out of order; repeat on day 8"


@pytest.fixture
def coded_ferritin(site_a, clinician):
    patient = enroll_child(site_a, clinician)
    visit = Visit.objects.get(patient=patient, planned_day=7)
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=SHANGHAI)
    lab_panel_save(
        visit=visit,
        sampled_at=when,
        values={
            "NEUT": Measurement(Decimal("2.1"), "10^9/L", when),
            "FERRITIN": Measurement(None, "µg/L", when, missing="not_done", missing_reason=REASON),
        },
        panel_data={},
        user=clinician,
    )
    return patient


def test_the_csv_lb_domain_says_not_done_with_the_code_and_the_reason(coded_ferritin, site_a):
    files = read_zip(b"".join(csv_zip_stream(site_ids={site_a.pk})))
    rows = {r["LBTESTCD"]: r for r in files["lab_results.csv"]}
    ferritin, neut = rows["FERRITIN"], rows["NEUT"]
    assert (ferritin["LBORRES"], ferritin["LBSTAT"], ferritin["LBMISSCD"], ferritin["LBREASND"]) == (
        "",
        "NOT DONE",
        "not_done",
        REASON,
    )
    assert ferritin["LBNRIND"] == ""  # no number, no flag
    assert (neut["LBORRES"], neut["LBSTAT"], neut["LBMISSCD"], neut["LBREASND"]) == ("2.1", "", "", "")
    dictionary = {r["variable"]: r for r in files["data_dictionary.csv"] if r["form"] == "lab_results"}
    assert {"LBSTAT", "LBMISSCD", "LBREASND"} <= set(dictionary)
    assert "not_done=Not done" in dictionary["LBMISSCD"]["allowed_values"]
    assert "sample_lost=Sample lost" in dictionary["LBMISSCD"]["allowed_values"]


def test_the_odm_writes_a_null_result_with_the_code_as_flag_and_the_reason_as_comment(coded_ferritin, site_a):
    document = odm_document(site_ids={site_a.pk})
    assert odm_validate(document) == []
    root = etree.fromstring(document)
    ns = {"odm": NS}
    ferritin_pk = LabResult.objects.get(patient=coded_ferritin, analyte="FERRITIN").pk
    group = root.xpath(
        f"//odm:ItemGroupData[@ItemGroupOID='IG.LAB_RESULTS'][@ItemGroupRepeatKey='{ferritin_pk}']", namespaces=ns
    )[0]
    result = group.xpath("odm:ItemData[@ItemOID='IT.LAB_RESULTS.LBORRES']", namespaces=ns)[0]
    assert result.get("IsNull") == "Yes" and result.get("Value") is None
    assert result.xpath("odm:Annotation/odm:Comment/text()", namespaces=ns) == [REASON]
    flag = result.xpath("odm:Annotation/odm:Flag/odm:FlagValue", namespaces=ns)[0]
    assert (flag.text, flag.get("CodeListOID")) == ("not_done", "CL.LAB_RESULTS.LBMISSCD")
    # The code list the flag names is in the metadata, with the code.
    assert "not_done" in root.xpath(
        "//odm:CodeList[@OID='CL.LAB_RESULTS.LBMISSCD']/odm:CodeListItem/@CodedValue", namespaces=ns
    )
    status = group.xpath("odm:ItemData[@ItemOID='IT.LAB_RESULTS.LBSTAT']/@Value", namespaces=ns)
    assert status == ["NOT DONE"]
    # A value with a number is not null.
    values = root.xpath("//odm:ItemData[@ItemOID='IT.LAB_RESULTS.LBORRES']", namespaces=ns)
    assert {(v.get("Value"), v.get("IsNull")) for v in values} == {(None, "Yes"), ("2.1", None)}
