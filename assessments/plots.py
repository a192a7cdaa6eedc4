"""The report's figures as PNG bytes (matplotlib, Agg backend: no display, safe in a web worker).

The Kaplan-Meier curve of event-free survival with censor marks and the numbers at risk
under it, and the trajectory of an HLH marker over days 0-28 with the normal range shaded.
"""

import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")

import matplotlib.ticker
from django.utils.translation import gettext, ngettext
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from assessments.rules.statistics import at_risk_counts, survival_curve

# The CJK faces a figure may fall back to, best first. matplotlib reads only the first face of a
# font collection (.ttc): Debian's fonts-noto-cjk shows it as "Noto Sans CJK JP", which holds
# the same ideographs as the SC face.
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans CJK JP", "Noto Sans CJK TC")


def font_families() -> list[str]:
    """Latin first, then the first CJK face installed: a Chinese figure's words are drawn with
    their glyphs, not boxes (matplotlib falls back along the list glyph by glyph). Only installed
    families are named, so matplotlib logs no "font not found" on each figure."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in CJK_FAMILIES if name in installed][:1], "sans-serif"]


matplotlib.rcParams["font.family"] = font_families()

COLOURS = ("#1f4e79", "#c0392b", "#2e8b57", "#8e44ad", "#d68910")
NORMAL_SHADE = "#d5f5e3"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _survival_at(times: Sequence[float], survival: Sequence[float], t: float) -> float:
    """The step function's value at t (the last step at or before t)."""
    value = 1.0
    for time, s in zip(times, survival, strict=True):
        if time > t:
            break
        value = s
    return value


def km_png(groups: Sequence[tuple[str, Sequence[float], Sequence[bool]]], *, mark_day: int = 183) -> bytes:
    """Kaplan-Meier curves (one per group) with '+' at censoring times and the numbers at risk below.

    The first group is everyone (the groups after it split them): it is drawn on top,
    thicker and dashed, so a group curve that coincides with it shows through and neither hides.
    """
    horizon = max((max(d) for _, d, _ in groups if d), default=mark_day)
    horizon = max(horizon, mark_day)
    step = 30 if horizon <= 400 else 90
    ticks = list(range(0, int(horizon) + 1, step))
    rows = len(groups)
    fig = Figure(figsize=(8, 4.2 + 0.3 * rows))
    ax = fig.add_axes((0.16, 0.14 + 0.06 * rows, 0.8, 0.8 - 0.06 * rows))
    for i, (label, durations, events) in enumerate(groups):
        colour = COLOURS[i % len(COLOURS)]
        curve = survival_curve(durations, events)
        if not curve.times:
            continue
        last = max(durations)  # the curve stops at the longest follow-up
        times = [*curve.times, last] if curve.times[-1] < last else list(curve.times)
        survival = [*curve.survival, curve.survival[-1]] if curve.times[-1] < last else list(curve.survival)
        overall = i == 0 and rows > 1
        ax.step(
            times,
            survival,
            where="post",
            color=colour,
            label=f"{label} (n={len(durations)})",
            linewidth=2.6 if overall else 1.5,
            linestyle=(0, (5, 3)) if overall else "-",
            zorder=4 if overall else 2,
        )
        censor_y = [_survival_at(curve.times, curve.survival, c) for c in curve.censored]
        ax.plot(
            curve.censored, censor_y, "+", color=colour, markersize=9, markeredgewidth=1.5, zorder=5 if overall else 3
        )
        counts = at_risk_counts(durations, ticks)
        y = -0.16 - 0.075 * (i + 1)
        ax.text(-0.02, y, label, transform=ax.transAxes, ha="right", va="center", fontsize=8, color=colour)
        for t, n in zip(ticks, counts, strict=True):
            ax.text(t, y, str(n), transform=ax.get_xaxis_transform(), ha="center", va="center", fontsize=8)
    ax.text(
        -0.02, -0.16, gettext("At risk"), transform=ax.transAxes, ha="right", va="center", fontsize=8, weight="bold"
    )
    ax.axvline(mark_day, color="#888", linestyle=":", linewidth=1)
    ax.text(mark_day, 1.02, gettext("6 months"), ha="center", fontsize=8, color="#555")
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(ticks)
    ax.set_xlabel(gettext("Days since the first ruxolitinib dose"))
    ax.set_ylabel(gettext("Event-free survival"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return _png(fig)


def baseline_label(dates: Sequence[date]) -> str:
    """The legend of the baseline points: one screening date, or the range of them."""
    if len(dates) == 1:
        return gettext("Baseline (screening, %(date)s)") % {"date": dates[0].isoformat()}
    return gettext("Baseline (screening, %(first)s to %(last)s)") % {
        "first": dates[0].isoformat(),
        "last": dates[-1].isoformat(),
    }


def trajectory_png(
    *,
    label: str,
    unit: str,
    series: Sequence[Sequence[tuple[int, float]]],
    normal: tuple[float | None, float | None] | None,
    log: bool = False,
    days: tuple[int, int] = (0, 28),
    size: tuple[float, float] = (5.2, 3.2),
    show_count: bool = True,
    baselines: Sequence[tuple[int, float, date]] = (),
) -> bytes:
    """Every patient's values of one marker over days 0-28, the normal range shaded.

    The baseline points (study day, value, screening date), the first point of each line, are
    marked apart and named in the legend: "Baseline (screening, <date>)"."""
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    lines = [[(d, v) for d, v in points if not log or v > 0] for points in series]
    lines = [line for line in lines if line]
    single = len(lines) == 1 and not show_count
    if lines:
        alpha = 0.9 if len(lines) <= 20 else max(0.05, 3 / len(lines) ** 0.5)
        ax.add_collection(LineCollection(lines, colors=COLOURS[0], linewidths=1.4 if single else 0.8, alpha=alpha))
        xs = [d for line in lines for d, _ in line]
        ys = [v for line in lines for _, v in line]
        if len(lines) <= 50:
            ax.plot(xs, ys, "o", color=COLOURS[0], markersize=3, alpha=alpha)
        low, high = min(ys), max(ys)
    else:
        low, high = (1.0, 10.0) if log else (0.0, 1.0)
        ax.text(0.5, 0.5, gettext("no values"), transform=ax.transAxes, ha="center", color="#888")
    marks = [(d, v) for d, v, _ in baselines if not log or v > 0]
    if marks:
        ax.plot(
            [d for d, _ in marks],
            [v for _, v in marks],
            "D",
            color=COLOURS[4],
            markersize=5 if single else 3.5,
            zorder=3,
            label=baseline_label(sorted({on for _, _, on in baselines})),
        )
        ax.legend(loc="best", fontsize=7, frameon=False)
    lower, upper = normal if normal is not None else (None, None)
    low = min(v for v in (low, lower, upper) if v is not None and (not log or v > 0))
    high = max(v for v in (high, lower, upper) if v is not None)
    if log:
        bottom, top = max(low * 0.7, 1e-3), high * 1.4
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    else:
        span = (high - low) or 1.0
        bottom, top = low - 0.08 * span, high + 0.08 * span
        if low >= 0 > bottom:
            bottom = -0.02 * span
    if normal is not None:
        shade_low = lower if lower is not None else bottom
        shade_high = upper if upper is not None else top
        if shade_high > shade_low:
            ax.axhspan(shade_low, shade_high, color=NORMAL_SHADE, zorder=0)
        else:
            ax.axhline(shade_low, color="#2e8b57", linewidth=2, alpha=0.5, zorder=0)
    ax.set_ylim(bottom, top)
    first = min([days[0], *(d for d, _ in marks)])
    ax.set_xlim(first - 0.5, days[1] + 0.5)
    ax.set_xticks(([first] if first < 0 else []) + [0, 3, 7, 14, 21, 28])
    ax.set_xlabel(gettext("Study day"))
    ax.set_ylabel(unit)
    if show_count:
        count = ngettext("%(n)d patient", "%(n)d patients", len(lines)) % {"n": len(lines)}
        title = f"{label} ({count})"
    else:
        title = label
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return _png(fig)
