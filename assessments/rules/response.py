"""HLH response at an assessment day (protocol section 9, decisions 12.3 and 12.4).

The nine markers: fever, ANC, platelets, fibrinogen, soluble CD25, ferritin,
triglycerides, spleen size, CNS/CSF. Each is judged normal or not at the assessment day
and compared with its baseline value; the categories are then decided in this order:

1. Relapse (only after a CR): >= 3 markers abnormal again.
2. Progressive disease: >= 2 markers worsened by >= 50 % from baseline.
   Missing markers cannot undo 1 or 2, so these are decided on the markers present.
3. Not assessable: any marker missing at the assessment day. CR needs every marker, and
   PR, HLH improvement and no response each need to know that no marker progressed, so a
   missing marker leaves the answer open; the missing markers are listed, never treated
   as normal.
4. Complete response: every marker normal.
5. Partial response: >= 3 of the markers abnormal at baseline have become normal, and no
   marker has progressed.
6. HLH improvement: >= 3 markers abnormal at baseline improved by >= 50 %.
7. No response: none of the above.

A marker recorded with a missing-data code (not done, not applicable, unknown, sample lost)
has no value: it is missing, exactly as a blank one (decision 12.4 picks values, and a code is
not a value), and never normal. When no value is found for the marker, its explanation and the
"missing" reason name the code and the free-text reason the site gave.

Counts supported by G-CSF (ANC) or a platelet transfusion (platelets) within the support
window before the assessment day are never normal (section 9). The window counts the
assessment day and the days before it: with the protocol's 4 days, support given 0 to 3
days before the assessment day counts, 4 days before does not.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from trial.rules.words import gettext, gettext_noop, pgettext


class Marker(str, Enum):
    FEVER = "fever"
    ANC = "anc"
    PLATELETS = "platelets"
    FIBRINOGEN = "fibrinogen"
    SCD25 = "scd25"
    FERRITIN = "ferritin"
    TRIGLYCERIDES = "triglycerides"
    SPLEEN = "spleen"
    CNS = "cns"


# English, as the stored results keep them; texts built here translate them (gettext).
MARKER_LABELS = {
    Marker.FEVER: gettext_noop("Fever (max temperature)"),
    Marker.ANC: gettext_noop("ANC"),
    Marker.PLATELETS: gettext_noop("Platelets"),
    Marker.FIBRINOGEN: gettext_noop("Fibrinogen"),
    Marker.SCD25: gettext_noop("Soluble CD25"),
    Marker.FERRITIN: gettext_noop("Ferritin"),
    Marker.TRIGLYCERIDES: gettext_noop("Triglycerides"),
    Marker.SPLEEN: gettext_noop("Spleen size"),
    Marker.CNS: gettext_noop("CNS / CSF"),
}

# Markers that are bad when high, and bad when low (decision 12.3).
HIGH_IS_BAD = (Marker.SCD25, Marker.FERRITIN, Marker.TRIGLYCERIDES, Marker.SPLEEN)
LOW_IS_BAD = (Marker.ANC, Marker.PLATELETS, Marker.FIBRINOGEN)


class Response(str, Enum):
    CR = "cr"
    PR = "pr"
    IMPROVEMENT = "improvement"
    PROGRESSION = "progression"
    RELAPSE = "relapse"
    NO_RESPONSE = "nr"
    NOT_ASSESSABLE = "not_assessable"


RESPONSE_LABELS = {
    Response.CR: "Complete response",
    Response.PR: "Partial response",
    Response.IMPROVEMENT: "HLH improvement",
    Response.PROGRESSION: "Progressive disease",
    Response.RELAPSE: "Relapse",
    Response.NO_RESPONSE: "No response",
    Response.NOT_ASSESSABLE: "Not assessable",
}


@dataclass(frozen=True)
class ResponseThresholds:
    afebrile_below_c: float = 37.5  # 9: "no fever (max temperature < 37.5 °C)"
    anc_normal_at_least: float = 1.0  # 9: "ANC >= 1.0 ... x10^9/L"
    platelets_normal_at_least: float = 100.0  # 9: "platelets >= 100 x10^9/L"
    fibrinogen_normal_above: float = 1.50  # 9: "fibrinogen > 1.50 g/L"
    support_window_days: int = 4  # 9: "without G-CSF or transfusion support in the preceding 4 days"
    improved_fraction: float = 0.5  # 12.3: "improved = value <= 0.5 x baseline" (high-bad)
    worsened_fraction: float = 1.5  # 12.3: "worsened = value >= 1.5 x baseline" (high-bad)
    pr_normalised_markers: int = 3  # 9: ">= 3 of the markers that were abnormal at baseline have become normal"
    improvement_markers: int = 3  # 9: ">= 3 markers that were abnormal at baseline improved by >= 50 %"
    progression_markers: int = 2  # 9: ">= 2 markers worsened by >= 50 % from baseline"
    relapse_markers: int = 3  # 9: "after a CR, >= 3 markers abnormal again"


@dataclass(frozen=True)
class UpperLimits:
    """The site's upper reference limits for the markers judged 'within the reference range'."""

    scd25: float | None = 6400.0  # section 8 default, pg/mL
    scd25_unit: str = "pg/mL"
    ferritin: float | None = 500.0  # µg/L
    triglycerides: float | None = 1.7  # mmol/L


# The missing-data codes of a lab value (assessments.models.labs.MissingCode), as the reasons name them.
MISSING_CODE_LABELS = {
    "not_done": "Not done",
    "not_applicable": "Not applicable",
    "unknown": "Unknown",
    "sample_lost": "Sample lost",
}


@dataclass(frozen=True)
class CodedMissing:
    """A marker the site recorded without a value: its missing-data code and free-text reason."""

    marker: Marker
    code: str
    reason: str

    @property
    def text(self) -> str:
        return f"{self.label}: {self.reason}"

    @property
    def label(self) -> str:
        """The code's name in the active language (English in a stored result)."""
        english = MISSING_CODE_LABELS.get(self.code)
        return pgettext("missing-data code", english) if english else self.code


@dataclass(frozen=True)
class MarkerValues:
    """The markers at one moment; None = not measured (`coded` says why, when the site recorded a code)."""

    max_temperature_c: float | None = None
    anc: float | None = None
    platelets: float | None = None
    fibrinogen: float | None = None
    scd25: float | None = None
    scd25_unit: str | None = None
    ferritin: float | None = None
    triglycerides: float | None = None
    spleen_cm: float | None = None
    cns_abnormal: bool | None = None
    coded: tuple[CodedMissing, ...] = ()

    def code_of(self, marker: Marker) -> CodedMissing | None:
        """The missing-data code of a marker without a value, if one was recorded."""
        if _measured(marker, self) is not None:
            return None
        return next((c for c in self.coded if c.marker is marker), None)


@dataclass(frozen=True)
class ResponseInput:
    assessment_date: date
    baseline: MarkerValues
    current: MarkerValues
    gcsf_dates: tuple[date, ...] = ()
    platelet_transfusion_dates: tuple[date, ...] = ()
    previous_cr: bool = False  # a CR was reached at an earlier assessment
    fever_resolved_before: bool = False  # the child was afebrile at an earlier assessment
    limits: UpperLimits = field(default_factory=UpperLimits)


@dataclass(frozen=True)
class MarkerAssessment:
    marker: Marker
    label: str
    baseline: str
    current: str
    baseline_abnormal: bool | None
    normal: bool | None
    improved: bool | None
    worsened: bool | None
    supported: bool
    explanation: str
    coded: CodedMissing | None = None  # the missing-data code recorded instead of a value

    @property
    def missing(self) -> bool:
        return self.normal is None


@dataclass(frozen=True)
class ResponseResult:
    status: Response
    markers: tuple[MarkerAssessment, ...]
    missing: tuple[Marker, ...]
    decided_by: str
    normalised: int
    improved: int
    worsened: int
    abnormal: int

    @property
    def label(self) -> str:
        return RESPONSE_LABELS[self.status]


# The words a marker's value is shown with when it is not a number (the stored results keep the English).
VALUE_WORDS = (
    gettext_noop("not measured"),
    gettext_noop("not assessed"),
    gettext_noop("abnormal"),
    gettext_noop("normal"),
)


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return gettext("not measured")
    return f"{value:g} {unit}".strip()


def value_shown(text: str) -> str:
    """A stored marker value in the active language: the words translated, numbers as they are."""
    return gettext(text) if text in VALUE_WORDS else text


def _supported(dates: tuple[date, ...], on: date, window: int) -> bool:
    return any(0 <= (on - given).days < window for given in dates)


def _ratio_change(marker: Marker, base: float | None, now: float | None, t: ResponseThresholds):
    """(improved, worsened) from the baseline value (decision 12.3); None when not comparable."""
    if base is None or now is None:
        return None, None
    if marker in HIGH_IS_BAD:
        improved = now <= t.improved_fraction * base
        worsened = now >= t.worsened_fraction * base if base > 0 else now > 0
    else:
        improved = now >= t.worsened_fraction * base if base > 0 else now > 0
        worsened = now <= t.improved_fraction * base
    return improved, worsened


def _within_upper(value: float | None, limit: float | None) -> bool | None:
    if value is None or limit is None:
        return None
    return value <= limit


def marker_normal(marker: Marker, values: MarkerValues, limits: UpperLimits, t: ResponseThresholds) -> bool | None:
    """Whether one marker is normal (section 9); None when it was not measured or cannot be judged."""
    if marker is Marker.FEVER:
        v = values.max_temperature_c
        return None if v is None else v < t.afebrile_below_c
    if marker is Marker.ANC:
        return None if values.anc is None else values.anc >= t.anc_normal_at_least
    if marker is Marker.PLATELETS:
        return None if values.platelets is None else values.platelets >= t.platelets_normal_at_least
    if marker is Marker.FIBRINOGEN:
        return None if values.fibrinogen is None else values.fibrinogen > t.fibrinogen_normal_above
    if marker is Marker.SCD25:
        if values.scd25 is not None and values.scd25_unit != limits.scd25_unit:
            return None  # no conversion factor between U/mL and pg/mL (12.1)
        return _within_upper(values.scd25, limits.scd25)
    if marker is Marker.FERRITIN:
        return _within_upper(values.ferritin, limits.ferritin)
    if marker is Marker.TRIGLYCERIDES:
        return _within_upper(values.triglycerides, limits.triglycerides)
    if marker is Marker.SPLEEN:
        return None if values.spleen_cm is None else values.spleen_cm <= 0
    return None if values.cns_abnormal is None else not values.cns_abnormal


def _value(marker: Marker, values: MarkerValues) -> float | None:
    return {
        Marker.ANC: values.anc,
        Marker.PLATELETS: values.platelets,
        Marker.FIBRINOGEN: values.fibrinogen,
        Marker.SCD25: values.scd25,
        Marker.FERRITIN: values.ferritin,
        Marker.TRIGLYCERIDES: values.triglycerides,
        Marker.SPLEEN: values.spleen_cm,
    }.get(marker)


def _measured(marker: Marker, values: MarkerValues) -> float | bool | None:
    """The marker's recorded value, whatever its kind (temperature, number or CNS finding)."""
    if marker is Marker.FEVER:
        return values.max_temperature_c
    if marker is Marker.CNS:
        return values.cns_abnormal
    return _value(marker, values)


UNITS = {
    Marker.ANC: "x10^9/L",
    Marker.PLATELETS: "x10^9/L",
    Marker.FIBRINOGEN: "g/L",
    Marker.FERRITIN: "µg/L",
    Marker.TRIGLYCERIDES: "mmol/L",
    Marker.SPLEEN: "cm",
}


def _display(marker: Marker, values: MarkerValues) -> str:
    if marker is Marker.FEVER:
        return _num(values.max_temperature_c, "°C")
    if marker is Marker.CNS:
        if values.cns_abnormal is None:
            return gettext("not assessed")
        return gettext("abnormal") if values.cns_abnormal else gettext("normal")
    if marker is Marker.SCD25:
        return _num(values.scd25, values.scd25_unit or "")
    return _num(_value(marker, values), UNITS[marker])


def marker_assess(marker: Marker, data: ResponseInput, t: ResponseThresholds) -> MarkerAssessment:
    """One marker at the assessment day against its baseline (sections 9 and 12.3)."""
    base, now, limits = data.baseline, data.current, data.limits
    baseline_normal = marker_normal(marker, base, limits, t)
    baseline_abnormal = None if baseline_normal is None else not baseline_normal
    normal = marker_normal(marker, now, limits, t)
    supported = False
    if marker is Marker.ANC and now.anc is not None:
        supported = _supported(data.gcsf_dates, data.assessment_date, t.support_window_days)
    if marker is Marker.PLATELETS and now.platelets is not None:
        supported = _supported(data.platelet_transfusion_dates, data.assessment_date, t.support_window_days)
    if supported and normal:
        normal = False

    if marker is Marker.FEVER:
        improved = None if normal is None or baseline_abnormal is None else (baseline_abnormal and normal)
        worsened = None if normal is None else (not normal and data.fever_resolved_before)
    elif marker is Marker.CNS:
        improved = None if normal is None or baseline_abnormal is None else (baseline_abnormal and normal)
        worsened = None if normal is None or baseline_abnormal is None else (not baseline_abnormal and not normal)
    else:
        base_value, now_value = _value(marker, base), _value(marker, now)
        if marker is Marker.SCD25 and base.scd25_unit != now.scd25_unit:
            base_value = None  # different units: not comparable (12.1)
        improved, worsened = _ratio_change(marker, base_value, now_value, t)
        if supported and improved:
            improved = False
    # Only markers abnormal at baseline can count as improved (12.3).
    if improved and not baseline_abnormal:
        improved = False

    not_measured = _value_missing(marker, now)
    coded = now.code_of(marker)
    explanation = marker_explanation(
        marker,
        normal=normal,
        not_measured=not_measured,
        supported=supported,
        baseline_abnormal=baseline_abnormal,
        improved=improved,
        worsened=worsened,
        thresholds=t,
        coded=coded.text if coded is not None else None,
    )
    return MarkerAssessment(
        marker=marker,
        label=MARKER_LABELS[marker],
        baseline=_display(marker, base),
        current=coded.label if coded is not None else _display(marker, now),
        baseline_abnormal=baseline_abnormal,
        normal=normal,
        improved=improved,
        worsened=worsened,
        supported=supported,
        explanation=explanation,
        coded=coded,
    )


def _value_missing(marker: Marker, values: MarkerValues) -> bool:
    if marker is Marker.FEVER:
        return values.max_temperature_c is None
    if marker is Marker.CNS:
        return values.cns_abnormal is None
    if marker is Marker.SCD25:
        return values.scd25 is None
    return _value(marker, values) is None


def marker_explanation(
    marker: Marker,
    *,
    normal: bool | None,
    not_measured: bool,
    supported: bool,
    baseline_abnormal: bool | None,
    improved: bool | None,
    worsened: bool | None,
    thresholds: ResponseThresholds = ResponseThresholds(),
    coded: str | None = None,
) -> str:
    """The note beside one marker, in the active language (a stored result keeps the English;
    a page rebuilds the note from the stored verdicts). `coded` is the missing-data code and
    reason the site recorded instead of a value ("Sample lost: haemolysed")."""
    parts = []
    if normal is None and coded:
        parts.append(gettext("missing at the assessment day (%(coded)s)") % {"coded": coded})
    elif normal is None:
        parts.append(gettext("missing at the assessment day") if not_measured else gettext("cannot be judged"))
    else:
        parts.append(gettext("normal") if normal else gettext("abnormal"))
    if supported:
        parts.append(
            gettext("supported within %(days)s days (G-CSF or transfusion), so not counted as normal")
            % {"days": thresholds.support_window_days}
        )
    if baseline_abnormal is None:
        parts.append(gettext("baseline not measured"))
    by_ratio = marker not in (Marker.FEVER, Marker.CNS)
    if improved:
        parts.append(gettext("improved >= 50 %% from baseline") % {} if by_ratio else gettext("resolved"))
    if worsened:
        parts.append(gettext("worsened >= 50 %% from baseline") % {} if by_ratio else gettext("new or returned"))
    return gettext("; ").join(parts) + gettext(".")


def decision_explanation(
    status: Response,
    *,
    missing: tuple[Marker, ...],
    normalised: int,
    improved: int,
    worsened: int,
    abnormal: int,
    thresholds: ResponseThresholds = ResponseThresholds(),
    coded: dict | None = None,
) -> str:
    """Why the response is what it is, in the active language (section 9's order of decisions).
    `coded` names, by marker, the missing-data code and reason recorded instead of a value."""
    t = thresholds
    if status is Response.RELAPSE:
        return gettext("After a CR, %(abnormal)s markers are abnormal again (>= %(limit)s).") % {
            "abnormal": abnormal,
            "limit": t.relapse_markers,
        }
    if status is Response.PROGRESSION:
        return gettext("%(worsened)s markers worsened by >= 50 %% from baseline (>= %(limit)s).") % {
            "worsened": worsened,
            "limit": t.progression_markers,
        }
    if status is Response.NOT_ASSESSABLE:
        coded = coded or {}
        names = gettext(", ").join(
            gettext("%(marker)s (%(coded)s)") % {"marker": gettext(MARKER_LABELS[m]), "coded": coded[m]}
            if coded.get(m)
            else gettext(MARKER_LABELS[m])
            for m in missing
        )
        return gettext("Missing at the assessment day: %(names)s.") % {"names": names}
    if status is Response.CR:
        return gettext("Every marker is normal.")
    if status is Response.PR:
        return gettext(
            "%(normalised)s markers abnormal at baseline are now normal (>= %(limit)s) and no marker progressed."
        ) % {"normalised": normalised, "limit": t.pr_normalised_markers}
    if status is Response.IMPROVEMENT:
        return gettext("%(improved)s markers abnormal at baseline improved by >= 50 %% (>= %(limit)s).") % {
            "improved": improved,
            "limit": t.improvement_markers,
        }
    return gettext("%(normalised)s normalised, %(improved)s improved, %(worsened)s worsened: no category reached.") % {
        "normalised": normalised,
        "improved": improved,
        "worsened": worsened,
    }


def response_assess(data: ResponseInput, thresholds: ResponseThresholds = ResponseThresholds()) -> ResponseResult:
    """The response category at an assessment day, with every marker's reasons (section 9)."""
    t = thresholds
    markers = tuple(marker_assess(m, data, t) for m in Marker)
    missing = tuple(m.marker for m in markers if m.normal is None)
    abnormal = sum(1 for m in markers if m.normal is False)
    worsened = sum(1 for m in markers if m.worsened)
    normalised = sum(1 for m in markers if m.baseline_abnormal and m.normal)
    improved = sum(1 for m in markers if m.improved)

    def result(status: Response) -> ResponseResult:
        why = decision_explanation(
            status,
            missing=missing,
            normalised=normalised,
            improved=improved,
            worsened=worsened,
            abnormal=abnormal,
            thresholds=t,
            coded={m.marker: m.coded.text for m in markers if m.coded},
        )
        return ResponseResult(status, markers, missing, why, normalised, improved, worsened, abnormal)

    if data.previous_cr and abnormal >= t.relapse_markers:
        return result(Response.RELAPSE)
    if worsened >= t.progression_markers:
        return result(Response.PROGRESSION)
    if missing:
        return result(Response.NOT_ASSESSABLE)
    if abnormal == 0:
        return result(Response.CR)
    if normalised >= t.pr_normalised_markers and worsened == 0:
        return result(Response.PR)
    if improved >= t.improvement_markers:
        return result(Response.IMPROVEMENT)
    return result(Response.NO_RESPONSE)


@dataclass(frozen=True)
class Observation:
    sampled_at: datetime
    value: float


def value_for_assessment(
    observations: list[Observation] | tuple[Observation, ...], *, assessment_date: date, window_start: date
) -> Observation | None:
    """The value used at an assessment day (decision 12.4).

    The one sampled that day (the latest of that day), else the latest in the visit
    window before it; never a value sampled after the assessment day. Sampling times are
    in the site's local time, so that "that day" is the site's calendar day.
    """
    same_day = [o for o in observations if o.sampled_at.date() == assessment_date]
    if same_day:
        return max(same_day, key=lambda o: o.sampled_at)
    earlier = [o for o in observations if window_start <= o.sampled_at.date() < assessment_date]
    return max(earlier, key=lambda o: o.sampled_at) if earlier else None
