"""`make bench`: build the synthetic cohort, time the services, write docs/benchmarks.md."""

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402

from bench import api, audit, exports, labs, report, responses  # noqa: E402
from bench.cohort import cohort_create  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "2000"))
# BENCH_ONLY=audit (or labs, or audit,labs) builds the cohort and times the audit trail (or the
# lab panel save) alone; docs/benchmarks.md then gets that section, headed with the cohort's size,
# replaced (or added) and keeps the others as they were measured. BENCH_PATIENTS=8000 for the
# larger cohort.
ONLY = {part for part in os.environ.get("BENCH_ONLY", "").split(",") if part}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout.split()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {pg}, Redis {redis[2] if len(redis) > 2 else '?'}"
    )


def _replace_section(text: str, section: list[str]) -> str:
    """The document with the section of the same heading replaced, or the section added at the end."""
    heading = section[0]
    lines = text.splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = section
    else:
        lines += ["", *section] if lines and lines[-1] else section
    return "\n".join(lines)


def main() -> None:
    started = time.perf_counter()
    cohort = cohort_create(patients=PATIENTS, day0=responses.day0_for_bench())
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    history_rows = audit.history_create()  # before any service writes: the cohort's own history
    history_s = time.perf_counter() - started
    # A live database has planner statistics (autovacuum analyzes tables as they grow); a cohort
    # bulk-inserted a moment ago has none yet, and the planner would guess 3 rows for 42,000.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if ONLY:
        out = ROOT / "docs" / "benchmarks.md"
        text = out.read_text() if out.exists() else "# Benchmarks\n"
        for name, part in (("audit", lambda: audit.run(written=history_rows, history_s=history_s)), ("labs", labs.run)):
            if name in ONLY:
                section = part()
                text = _replace_section(text, section)
                sys.stdout.write("\n".join(section) + "\n")
        out.write_text(text)
        return
    result = responses.run()
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {machine()}.",
        "",
        "Reproduce: `make bench` (PostgreSQL and Redis on 127.0.0.1; it recreates the database `ecrf_bench`).",
        "",
        "## Response engine",
        "",
        f"Cohort: {cohort.patients} patients with full day 0-28 data: {cohort.panels} lab panels, "
        f"{cohort.results} lab values (built in {build_s:.1f} s with bulk inserts, then ANALYZE as "
        "autovacuum would). "
        f"Each patient has reached days 3, 7, 14 and 28 ({result['per_patient']} assessments).",
        "",
        "| measure | target | result |",
        "| --- | --- | --- |",
        f"| nightly sweep, one Celery worker (prefork, 2 processes) on Redis, {result['patients']} patients "
        "| < 60 s "
        f"| {result['sweep_s']:.1f} s ({result['assessments']} assessments stored) |",
        f"| one patient's assessment, first computation (median of 20 / p95) | < 50 ms "
        f"| {result['first_median_ms']:.1f} ms / {result['first_p95_ms']:.1f} ms |",
        f"| one patient's assessment, unchanged data (median) | — | {result['rerun_median_ms']:.1f} ms |",
        f"| SQL queries per patient assessment (first computation, all sampled patients) | constant "
        f"| {', '.join(str(q) for q in result['queries'])} |",
        "",
    ]
    lines += report.run()
    lines += exports.run()
    lines += api.run()
    lines += audit.run(written=history_rows, history_s=history_s)
    lines += labs.run()
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(lines))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
