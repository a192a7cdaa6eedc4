"""Each reference range names its source; age-banded pediatric defaults for the age-dependent analytes.

The seeded defaults were adult laboratory ranges (Hb 110-160 g/L, ANC 2-7 x10^9/L), applied
to every child. The rows below are trial defaults (no site) for age bands, so they win over
the all-ages rows for a child (trial.rules.ranges); a site's own row still wins over them.
The all-ages rows stay as they were and now say where they come from: they apply to an
adult and to the study-level summaries that have no age.

Ages are in days, years of 365.25 days rounded (6 months = 183 days, as in protocol 12.5);
a band includes its first day and excludes its last. Each band follows the partitions of
its published table; where the table is split by sex the band takes the wider limit of the
two (the eCRF's ranges are not by sex).
"""

from decimal import Decimal

from django.db import migrations, models
from django.utils.translation import gettext_noop

D15, M1, M2, M6, Y1, Y2, Y5, Y6 = 15, 30, 61, 183, 365, 730, 1826, 2191
Y7, Y11, Y12, Y13, Y15, Y16, Y17, Y18 = 2557, 4018, 4383, 4748, 5479, 5844, 6209, 6575

PROTOCOL = "RUX-HLH protocol section 8 default (all ages)"
ADULT = "Adult laboratory range seeded with the trial (all ages; a site replaces it with its own)"
SOURCES_OF_SEEDED = {
    "FERRITIN": PROTOCOL,
    "SCD25": PROTOCOL,
    "IFNG": PROTOCOL,
    "NKACT": PROTOCOL,
    "CD107A": PROTOCOL,
    "TRIG": PROTOCOL,
    "ALT": PROTOCOL,
    "FIBRINO": PROTOCOL,
    "HGB": ADULT,
    "NEUT": ADULT,
    "PLAT": ADULT,
    "WBC": ADULT,
}

DALLMAN_HB = (
    "Dallman PR, in Rudolph AM (ed.), Pediatrics, 16th ed., 1977, as reproduced in Nathan and Oski's "
    "Hematology of Infancy and Childhood (normal hematologic values in children): mean ± 2 SD"
)
DALLMAN_WBC = (
    "Dallman PR, in Rudolph AM (ed.), Pediatrics, 16th ed., 1977: age-specific leukocyte differential, "
    "as reproduced in The Harriet Lane Handbook, 22nd ed., 2021, Hematology chapter (range)"
)
HARRIET_LANE_PLT = "The Harriet Lane Handbook, 22nd ed., 2021, Hematology chapter: platelets 150-450 x10^9/L"
CALIPER = (
    "CALIPER: Colantonio DA et al., Clin Chem 2012;58:854-68 (2.5th-97.5th percentiles; "
    "sex-specific bands merged to the wider limits)"
)
CALIPER_CREAT = CALIPER.replace("(2.5th", "(enzymatic creatinine; 2.5th")
ANDREW_INFANT = "Andrew M et al., Blood 1987;70:165-72 (full-term infants; boundaries of 95 % of the population)"
ANDREW_CHILD = "Andrew M et al., Blood 1992;80:1998-2005 (children; boundaries of 95 % of the population)"
SIIMES = (
    "Siimes MA, Addiego JE, Dallman PR, Blood 1974;43:581-90, as reproduced in Nathan and Oski's "
    "Hematology of Infancy and Childhood (serum ferritin; adult sexes merged)"
)

# (analyte, unit, from day, to day (exclusive), lower, upper, source)
PEDIATRIC = [
    ("HGB", "g/L", 0, M1, "125", "225", DALLMAN_HB),
    ("HGB", "g/L", M1, M6, "90", "180", DALLMAN_HB),
    ("HGB", "g/L", M6, Y2, "105", "135", DALLMAN_HB),
    ("HGB", "g/L", Y2, Y6, "115", "135", DALLMAN_HB),
    ("HGB", "g/L", Y6, Y12, "115", "155", DALLMAN_HB),
    ("HGB", "g/L", Y12, Y18, "120", "160", DALLMAN_HB),
    ("WBC", "10^9/L", 0, M1, "5.0", "38.0", DALLMAN_WBC),
    ("WBC", "10^9/L", M1, M6, "5.0", "19.5", DALLMAN_WBC),
    ("WBC", "10^9/L", M6, Y2, "6.0", "17.5", DALLMAN_WBC),
    ("WBC", "10^9/L", Y2, Y6, "5.5", "17.0", DALLMAN_WBC),
    ("WBC", "10^9/L", Y6, Y12, "4.5", "14.5", DALLMAN_WBC),
    ("WBC", "10^9/L", Y12, Y18, "4.5", "13.0", DALLMAN_WBC),
    ("NEUT", "10^9/L", 0, M1, "1.0", "28.0", DALLMAN_WBC),
    ("NEUT", "10^9/L", M1, M6, "1.0", "9.0", DALLMAN_WBC),
    ("NEUT", "10^9/L", M6, Y2, "1.0", "8.5", DALLMAN_WBC),
    ("NEUT", "10^9/L", Y2, Y6, "1.5", "8.5", DALLMAN_WBC),
    ("NEUT", "10^9/L", Y6, Y12, "1.5", "8.0", DALLMAN_WBC),
    ("NEUT", "10^9/L", Y12, Y18, "1.8", "8.0", DALLMAN_WBC),
    ("PLAT", "10^9/L", 0, Y18, "150", "450", HARRIET_LANE_PLT),
    ("ALT", "U/L", 0, Y1, "5", "33", CALIPER),
    ("ALT", "U/L", Y1, Y13, "9", "25", CALIPER),
    ("ALT", "U/L", Y13, Y18, "8", "24", CALIPER),
    ("AST", "U/L", 0, D15, "32", "162", CALIPER),
    ("AST", "U/L", D15, Y1, "20", "67", CALIPER),
    ("AST", "U/L", Y1, Y7, "21", "44", CALIPER),
    ("AST", "U/L", Y7, Y12, "18", "36", CALIPER),
    ("AST", "U/L", Y12, Y18, "13", "35", CALIPER),
    ("CREAT", "µmol/L", 0, D15, "32", "85", CALIPER_CREAT),
    ("CREAT", "µmol/L", D15, Y2, "10", "36", CALIPER_CREAT),
    ("CREAT", "µmol/L", Y2, Y5, "20", "39", CALIPER_CREAT),
    ("CREAT", "µmol/L", Y5, Y12, "27", "54", CALIPER_CREAT),
    ("CREAT", "µmol/L", Y12, Y15, "40", "72", CALIPER_CREAT),
    ("CREAT", "µmol/L", Y15, Y18, "50", "92", CALIPER_CREAT),
    ("FIBRINO", "g/L", 0, M1, "1.62", "4.62", ANDREW_INFANT),
    ("FIBRINO", "g/L", M1, Y1, "1.50", "3.87", ANDREW_INFANT),
    ("FIBRINO", "g/L", Y1, Y6, "1.70", "4.05", ANDREW_CHILD),
    ("FIBRINO", "g/L", Y6, Y11, "1.57", "4.00", ANDREW_CHILD),
    ("FIBRINO", "g/L", Y11, Y17, "1.54", "4.48", ANDREW_CHILD),
    ("FIBRINO", "g/L", Y17, Y18, "1.56", "4.00", ANDREW_CHILD.replace("(children;", "(adults;")),
    ("FERRITIN", "µg/L", 0, M1, "25", "200", SIIMES),
    ("FERRITIN", "µg/L", M1, M2, "200", "600", SIIMES),
    ("FERRITIN", "µg/L", M2, M6, "50", "200", SIIMES),
    ("FERRITIN", "µg/L", M6, Y16, "7", "140", SIIMES),
    ("FERRITIN", "µg/L", Y16, Y18, "12", "200", SIIMES),
]

REASON = gettext_noop("Pediatric age-banded reference ranges with their sources")  # read in the reader's language


def _history(apps, objs, kind: str) -> None:
    from trial.clock import now

    model = apps.get_model("trial", "ReferenceRange")
    history = apps.get_model("trial", "HistoricalReferenceRange")
    kept = {f.attname for f in history._meta.concrete_fields}
    at = now().replace(microsecond=0)
    history.objects.bulk_create(
        history(
            **{f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields if f.attname in kept},
            history_date=at,
            history_type=kind,
            history_change_reason=REASON,
        )
        for obj in objs
    )


def seed(apps, schema_editor):
    Trial = apps.get_model("trial", "Trial")
    ReferenceRange = apps.get_model("trial", "ReferenceRange")
    trial = Trial.objects.filter(registry_id="ChiCTR2000029977").first()
    if trial is None:
        return
    named = []
    for row in ReferenceRange.objects.filter(trial=trial, site__isnull=True, age_min_days=None, age_max_days=None):
        if not row.source and row.analyte in SOURCES_OF_SEEDED:
            row.source = SOURCES_OF_SEEDED[row.analyte]
            row.save(update_fields=["source"])
            named.append(row)
    _history(apps, named, "~")
    added = ReferenceRange.objects.bulk_create(
        ReferenceRange(
            trial=trial,
            analyte=analyte,
            unit=unit,
            age_min_days=start,
            age_max_days=end,
            lower=Decimal(lower),
            upper=Decimal(upper),
            source=source,
        )
        for analyte, unit, start, end, lower, upper, source in PEDIATRIC
    )
    _history(apps, added, "+")


def unseed(apps, schema_editor):
    ReferenceRange = apps.get_model("trial", "ReferenceRange")
    ranges = ReferenceRange.objects.filter(trial__registry_id="ChiCTR2000029977", site__isnull=True)
    for analyte, _unit, start, end, *_ in PEDIATRIC:
        ranges.filter(analyte=analyte, age_min_days=start, age_max_days=end).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trial", "0004_trial_min_dose_interval"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalreferencerange",
            name="source",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The citation of the range: the published table, the protocol section or the site's laboratory.",
                max_length=300,
                verbose_name="source",
            ),
        ),
        migrations.AddField(
            model_name="referencerange",
            name="source",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The citation of the range: the published table, the protocol section or the site's laboratory.",
                max_length=300,
                verbose_name="source",
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
