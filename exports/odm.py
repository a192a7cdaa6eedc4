"""CDISC ODM 1.3.2 export: study metadata (forms, item groups, items, code lists) and clinical data.

The forms and items are those of the CSV export (exports.tabular.FORMS), so both exports
name every variable the same way. Each record's item group carries an AuditRecord from its
latest django-simple-history row (who, when, why); a subject whose casebook carries an
investigator's signature that still holds has it as its Signature (21 CFR 11.50).
"""

from collections import defaultdict
from functools import cache
from pathlib import Path

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone, translation
from lxml import etree

from exports.tabular import FORMS, Column, form_records
from trial.models import Site
from trial.selectors import trial_current

NS = "http://www.cdisc.org/ns/odm/v1.3"
SCHEMA = Path(__file__).resolve().parent / "schema" / "odm-1.3.2" / "ODM1-3-2.xsd"
ODM_TYPES = {
    "text": "text",
    "integer": "integer",
    "decimal": "float",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
}
MDV = "MDV.1"
EVENT = "SE.STUDY"
# Forms exported under each enrolled subject, the subject's screening and eligibility last; the
# screening of a child never enrolled has no subject and is in the CSV only.
SUBJECT_FORMS = [f for f in FORMS if f.name != "screening"] + [f for f in FORMS if f.name == "screening"]


def _e(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _translated(parent, tag: str, text: str) -> None:
    _e(_e(parent, tag), "TranslatedText", text, **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})


def item_oid(form_name: str, column: Column) -> str:
    return f"IT.{form_name.upper()}.{column.name}"


def _codes(column: Column) -> list[tuple[str, str]]:
    if not column.allowed or "=" not in column.allowed:
        return []
    pairs = []
    for part in column.allowed.split("; "):
        value, _, label = part.partition("=")
        if value and value != "empty":
            pairs.append((value, label))
    return pairs


def _metadata(study) -> None:
    mdv = _e(study, "MetaDataVersion", OID=MDV, Name="RUX-HLH eCRF metadata")
    protocol = _e(mdv, "Protocol")
    _e(protocol, "StudyEventRef", StudyEventOID=EVENT, OrderNumber=1, Mandatory="Yes")
    event = _e(mdv, "StudyEventDef", OID=EVENT, Name="Study", Repeating="No", Type="Common")
    for n, form in enumerate(SUBJECT_FORMS, start=1):
        _e(event, "FormRef", FormOID=f"F.{form.name.upper()}", OrderNumber=n, Mandatory="No")
    for form in SUBJECT_FORMS:
        form_def = _e(mdv, "FormDef", OID=f"F.{form.name.upper()}", Name=form.label, Repeating="No")
        _e(form_def, "ItemGroupRef", ItemGroupOID=f"IG.{form.name.upper()}", Mandatory="Yes")
    for form in SUBJECT_FORMS:
        group = _e(mdv, "ItemGroupDef", OID=f"IG.{form.name.upper()}", Name=form.label, Repeating="Yes")
        for n, column in enumerate(form.columns, start=1):
            _e(group, "ItemRef", ItemOID=item_oid(form.name, column), OrderNumber=n, Mandatory="No")
    code_lists = []
    for form in SUBJECT_FORMS:
        for column in form.columns:
            oid = item_oid(form.name, column)
            item = _e(
                mdv, "ItemDef", OID=oid, Name=column.name, DataType=ODM_TYPES[column.type], SASFieldName=column.name[:8]
            )
            _translated(item, "Question", column.label + (f" ({column.unit})" if column.unit else ""))
            codes = _codes(column)
            if codes and column.type != "boolean":
                _e(item, "CodeListRef", CodeListOID=f"CL.{oid[3:]}")
                code_lists.append((f"CL.{oid[3:]}", column, codes))
    for oid, column, codes in code_lists:
        code_list = _e(
            mdv, "CodeList", OID=oid, Name=column.label, DataType="integer" if column.type == "integer" else "text"
        )
        for value, label in codes:
            _translated(_e(code_list, "CodeListItem", CodedValue=value), "Decode", label)


SIGNATURE_DEF = "SD.INVESTIGATOR"


def _casebook_signatures(site_ids: set[int]) -> dict[str, tuple]:
    """subject -> (user id, username, signed at) of the latest casebook signature that still holds.

    A signature broken by a later change (review.services.signature_valid) signs nothing current,
    so it is not exported as the subject's signature; the audit trail keeps it.
    """
    from review.models import Signature
    from review.services import signature_valid

    out: dict[str, tuple] = {}
    signatures = (
        Signature.objects.filter(scope=Signature.Scope.CASEBOOK, patient__site_id__in=site_ids)
        .select_related("patient", "signer")
        .order_by("patient_id", "-signed_at")
    )
    for signature in signatures:
        subject = signature.patient.subject_number
        if subject not in out and signature_valid(signature):
            out[subject] = (signature.signer_id, signature.signer.get_username(), signature.signed_at)
    return out


def _admin(odm, *, site_ids: set[int], users: dict[int, str], effective, signed: bool = False) -> None:
    admin = _e(odm, "AdminData", StudyOID=_study_oid())
    _e(_e(admin, "User", OID="USR.system"), "LoginName", "system")
    for user_id, name in sorted(users.items()):
        user = _e(admin, "User", OID=f"USR.{user_id}")
        _e(user, "LoginName", name)
    for site in Site.objects.filter(id__in=site_ids).order_by("code"):
        location = _e(admin, "Location", OID=f"LOC.{site.code}", Name=site.name, LocationType="Site")
        _e(
            location,
            "MetaDataVersionRef",
            StudyOID=_study_oid(),
            MetaDataVersionOID=MDV,
            EffectiveDate=effective.isoformat(),
        )
    if signed:
        definition = _e(admin, "SignatureDef", OID=SIGNATURE_DEF, Methodology="Electronic")
        _e(
            definition,
            "Meaning",
            "The investigator confirms having reviewed the casebook and that the data are accurate and complete.",
        )
        _e(definition, "LegalReason", "21 CFR Part 11.50: signed by re-entering the password")


@cache
def _study_oid() -> str:
    return f"ST.{trial_current().registry_id}"


def _latest_history(model, ids: list[int]) -> dict[int, tuple]:
    """id -> (history_date, history_user_id, username, change reason) of each record's latest history row."""
    if not hasattr(model, "history") or not ids:
        return {}
    out = {}
    # The first row of each record's history, newest first: a window function, which SQLite (the
    # embedded default) and PostgreSQL both run; DISTINCT ON is PostgreSQL's alone.
    newest_first = (F("history_date").desc(), F("history_id").desc())
    rows = (
        model.history.filter(id__in=ids)
        .annotate(recency=Window(RowNumber(), partition_by=F("id"), order_by=newest_first))
        .filter(recency=1)
        .values_list("id", "history_date", "history_user_id", "history_user__username", "history_change_reason")
    )
    for pk, when, user_id, username, reason in rows:
        out[pk] = (when, user_id, username, reason)
    return out


def odm_tree(*, site_ids: set[int], now=None) -> etree._Element:
    now = now or timezone.now()
    trial = trial_current()
    odm = etree.Element(
        f"{{{NS}}}ODM",
        {
            "FileType": "Snapshot",
            "FileOID": f"RUX-HLH-{now:%Y%m%dT%H%M%S}",
            "CreationDateTime": now.isoformat(),
            "ODMVersion": "1.3.2",
            "Originator": "RUX-HLH eCRF",
        },
        nsmap={None: NS},
    )
    study = _e(odm, "Study", OID=_study_oid())
    globals_ = _e(study, "GlobalVariables")
    _e(globals_, "StudyName", trial.short_name)
    _e(globals_, "StudyDescription", trial.title)
    _e(globals_, "ProtocolName", f"{trial.registry_id} v{trial.protocol_version}")
    _metadata(study)

    # Clinical data grouped by subject: {subject: {form: [(record, values)]}}
    subjects: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    subject_site: dict[str, str] = {}
    audits: dict[str, dict[int, tuple]] = {}
    users: dict[int, str] = {}
    for form in SUBJECT_FORMS:
        names = [c.name for c in form.columns]
        records = [(pk, dict(zip(names, row, strict=True))) for pk, row in form_records(form, site_ids=site_ids)]
        model = form.rows(site_ids).model
        audits[form.name] = _latest_history(model, [pk for pk, _ in records])
        for _, user_id, username, _ in audits[form.name].values():
            if user_id:
                users[user_id] = username
        for pk, values in records:
            subject = values["SUBJID"]
            if not subject:
                continue
            subject_site[subject] = values["SITEID"]
            subjects[subject][form.name].append((pk, values))
    signatures = _casebook_signatures(site_ids)
    for user_id, username, _ in signatures.values():
        users[user_id] = username
    _admin(odm, site_ids=site_ids, users=users, effective=now.date(), signed=bool(signatures))

    clinical = _e(odm, "ClinicalData", StudyOID=_study_oid(), MetaDataVersionOID=MDV)
    for subject in sorted(subjects):
        subject_data = _e(clinical, "SubjectData", SubjectKey=subject)
        if subject in signatures:
            user_id, _, signed_at = signatures[subject]
            signature = _e(subject_data, "Signature")
            _e(signature, "UserRef", UserOID=f"USR.{user_id}")
            _e(signature, "LocationRef", LocationOID=f"LOC.{subject_site[subject]}")
            _e(signature, "SignatureRef", SignatureOID=SIGNATURE_DEF)
            _e(signature, "DateTimeStamp", signed_at.isoformat())
        _e(subject_data, "SiteRef", LocationOID=f"LOC.{subject_site[subject]}")
        event = _e(subject_data, "StudyEventData", StudyEventOID=EVENT)
        for form in SUBJECT_FORMS:
            rows = subjects[subject].get(form.name)
            if not rows:
                continue
            form_data = _e(event, "FormData", FormOID=f"F.{form.name.upper()}")
            for pk, values in rows:
                group = _e(form_data, "ItemGroupData", ItemGroupOID=f"IG.{form.name.upper()}", ItemGroupRepeatKey=pk)
                audit = audits[form.name].get(pk)
                if audit:
                    when, user_id, _, reason = audit
                    record = _e(group, "AuditRecord")
                    _e(record, "UserRef", UserOID=f"USR.{user_id}" if user_id else "USR.system")
                    _e(record, "LocationRef", LocationOID=f"LOC.{subject_site[subject]}")
                    _e(record, "DateTimeStamp", when.isoformat())
                    if reason:
                        _e(record, "ReasonForChange", reason)
                for column in form.columns:
                    value = values[column.name]
                    if form.name == "lab_results" and column.name == "LBORRES" and values.get("LBMISSCD"):
                        _null_result(group, form.name, column, values)
                    elif value != "" and column.name not in ("SUBJID", "SITEID"):
                        if column.type == "boolean":
                            value = "1" if value == "Y" else "0"
                        _e(group, "ItemData", ItemOID=item_oid(form.name, column), Value=value)
    return odm


def _null_result(group, form_name: str, column: Column, values: dict) -> None:
    """A lab value recorded without a number: the result is null, annotated with the site's
    missing-data code (a Flag of the LBMISSCD code list) and its reason (a Comment)."""
    item = _e(group, "ItemData", ItemOID=item_oid(form_name, column), IsNull="Yes")
    annotation = _e(item, "Annotation", SeqNum=1)
    _e(annotation, "Comment", values["LBREASND"], SponsorOrSite="Site")
    flag = _e(annotation, "Flag")
    _e(flag, "FlagValue", values["LBMISSCD"], CodeListOID=f"CL.{form_name.upper()}.LBMISSCD")


def odm_document(*, site_ids: set[int]) -> bytes:
    # Machine output, its texts marked xml:lang="en": English whatever the language of the page.
    with translation.override("en"):
        tree = odm_tree(site_ids=site_ids)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def odm_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def odm_validate(document: bytes) -> list[str]:
    """Schema errors of an ODM document (empty when valid), checked offline against the vendored XSD."""
    schema = odm_schema()
    schema.validate(etree.fromstring(document))
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
