"""The changes cell of a trail entry (audit_trail.trail_changes): every value escaped, typed text
marked as not to translate, a creation of many fields folded under its count, a change as old → new."""

from datetime import UTC, datetime

from django.utils import translation

from audit.selectors import Change, TrailEntry
from audit.templatetags.audit_trail import trail_changes


def entry(action: str, changes: list[Change]) -> TrailEntry:
    return TrailEntry(
        when=datetime(2026, 3, 9, 8, 30, tzinfo=UTC),
        user="clinician",
        roles="Clinician",
        model="assessments.adverseevent",
        model_label="Adverse event",
        object_id=1,
        record="",
        action=action,
        reason="",
        changes=changes,
    )


def test_a_changed_value_reads_old_arrow_new_and_typed_text_is_escaped_and_not_translated():
    cell = trail_changes(
        entry(
            "Changed",
            [
                Change(field="grade", label="Grade", old="2", new="3"),
                Change(field="notes", label="Notes", old="", new="<b>rash</b> & itch", verbatim=True),
            ],
        )
    )
    assert '<div><span class="text-muted">Grade:</span> 2 → <strong>3</strong></div>' in cell
    assert '<span translate="no"></span> → <strong translate="no">&lt;b&gt;rash&lt;/b&gt; &amp; itch</strong>' in cell
    assert "<b>" not in cell


def test_a_creation_shows_new_values_only_and_folds_more_than_four_under_their_count():
    four = [Change(field=f"f{i}", label=f"Field {i}", old="—", new=str(i)) for i in range(4)]
    cell = trail_changes(entry("Created", four))
    assert "<details>" not in cell and "→" not in cell
    assert cell.count("<div>") == 4
    five = [*four, Change(field="f4", label="Field 4", old="—", new="4")]
    folded = trail_changes(entry("Created", five))
    assert folded.startswith("<details><summary>5 fields entered</summary>")
    assert folded.count("<div>") == 5
    with translation.override("zh-hans"):
        assert "<summary>已录入 5 个字段</summary>" in trail_changes(entry("Created", five))


def test_an_entry_without_changes_shows_a_dash():
    assert trail_changes(entry("Deleted", [])) == "—"
