"""Seed the RUX-HLH trial (ChiCTR2000029977): site, dose bands, reference ranges, schedule.

Everything here is data, editable in the admin: a second site or protocol version is added
the same way, without code edits.
"""

from decimal import Decimal

from django.db import migrations

# Protocol section 6: weight bands, the upper bound inclusive.
DOSE_BANDS = [
    (Decimal("10"), Decimal("2.5"), "≤ 10 kg"),
    (Decimal("20"), Decimal("5"), "> 10 kg and ≤ 20 kg"),
    (None, Decimal("10"), "> 20 kg"),
]

# Protocol section 8 defaults (analyte, unit, lower, upper). The blood-count ranges give the
# lower limits of normal that CTCAE grading needs; a site replaces them with its own.
REFERENCE_RANGES = [
    ("FERRITIN", "µg/L", None, "500"),
    ("SCD25", "pg/mL", None, "6400"),
    ("IFNG", "pg/mL", None, "8"),
    ("NKACT", "%", "15.11", None),
    ("CD107A", "%", "10", None),
    ("TRIG", "mmol/L", None, "1.7"),
    ("ALT", "U/L", None, "40"),
    ("FIBRINO", "g/L", "2.0", "4.0"),
    ("HGB", "g/L", "110", "160"),
    ("NEUT", "10^9/L", "2.0", "7.0"),
    ("PLAT", "10^9/L", "100", "300"),
    ("WBC", "10^9/L", "4.0", "10.0"),
]

# Protocol section 7 (code, name, kind, day, before, after, response assessment, full HLH panel).
SCHEDULE = [
    ("BASE", "Screening / baseline", "baseline", 0, 7, 0, False, True),
    ("D1", "Day 1", "daily", 1, 0, 0, False, False),
    ("D2", "Day 2", "daily", 2, 0, 0, False, False),
    ("D3", "Day 3 (efficacy)", "efficacy", 3, 0, 0, True, False),
    ("D4", "Day 4", "daily", 4, 0, 0, False, False),
    ("D5", "Day 5", "daily", 5, 0, 0, False, False),
    ("D6", "Day 6", "daily", 6, 0, 0, False, False),
    ("D7", "Day 7 (efficacy)", "efficacy", 7, 1, 1, True, True),
    ("D14", "Day 14 (week 2)", "weekly", 14, 2, 2, True, True),
    ("D21", "Day 21 (week 3)", "weekly", 21, 2, 2, False, True),
    ("D28", "Day 28 (end of treatment)", "eot", 28, 2, 2, True, True),
    ("FU56", "Follow-up day 56", "follow_up", 56, 7, 7, True, False),
    ("FU84", "Follow-up day 84", "follow_up", 84, 7, 7, True, False),
    ("FU112", "Follow-up day 112", "follow_up", 112, 7, 7, True, False),
    ("FU140", "Follow-up day 140", "follow_up", 140, 7, 7, True, False),
    ("FU168", "Follow-up day 168", "follow_up", 168, 7, 7, True, False),
    ("FU182", "Follow-up day 182", "follow_up", 182, 7, 7, True, False),
]


def seed(apps, schema_editor):
    Trial = apps.get_model("trial", "Trial")
    Site = apps.get_model("trial", "Site")
    DoseBand = apps.get_model("trial", "DoseBand")
    ReferenceRange = apps.get_model("trial", "ReferenceRange")
    VisitDefinition = apps.get_model("trial", "VisitDefinition")

    trial = Trial.objects.create(
        registry_id="ChiCTR2000029977",
        short_name="RUX-HLH",
        title="Ruxolitinib as first-line therapy in secondary hemophagocytic lymphohistiocytosis",
        protocol_version="1.0",
        treatment_days=28,
        doses_per_day=2,
    )
    Site.objects.create(trial=trial, code="BCH", name="Beijing Children's Hospital", time_zone="Asia/Shanghai")
    for max_weight, dose, label in DOSE_BANDS:
        DoseBand.objects.create(trial=trial, max_weight_kg=max_weight, dose_mg=dose, label=label)
    for analyte, unit, lower, upper in REFERENCE_RANGES:
        ReferenceRange.objects.create(
            trial=trial,
            analyte=analyte,
            unit=unit,
            lower=Decimal(lower) if lower else None,
            upper=Decimal(upper) if upper else None,
        )
    for order, (code, name, kind, day, before, after, response, panel) in enumerate(SCHEDULE):
        VisitDefinition.objects.create(
            trial=trial,
            code=code,
            name=name,
            kind=kind,
            day=day,
            window_before=before,
            window_after=after,
            response_assessment=response,
            full_hlh_panel=panel,
            order=order,
        )


def unseed(apps, schema_editor):
    apps.get_model("trial", "Site").objects.filter(trial__registry_id="ChiCTR2000029977").delete()
    apps.get_model("trial", "Trial").objects.filter(registry_id="ChiCTR2000029977").delete()


class Migration(migrations.Migration):
    dependencies = [("trial", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
