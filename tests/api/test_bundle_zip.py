"""A CSV bundle's ZIP is read in counted chunks: over a limit it is refused at once, naming the limit,
whatever its headers declare, with bounded memory and nothing stored (api/bundle_zip.py)."""

import io
import struct
import tracemalloc
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api import bundle_zip
from api.csv_bundle import read_csv_bundle
from api.importing import ImportFailed
from api.models import ImportJob
from patients.models import Screening

pytestmark = pytest.mark.django_db

MIB = 2**20
SCREENINGS = "site,screening_number,initials\nBCH,SRC-001,AB\n"
ROWS = "BCH,SRC-001,D3,,2026-09-06T08:00:00,TEMP,37.9,°C\n".encode() * 2000
LABS_HEADER = b"site,screening_number,visit,visit_date,sampled_at,analyte,value,unit\n"


def zip_with_labs(size: int) -> bytes:
    """screenings.csv and a labs.csv of `size` bytes of real rows, written as a stream (deflated ~300:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("screenings.csv", SCREENINGS)
        with archive.open("labs.csv", "w") as member:
            member.write(LABS_HEADER)
            written = len(LABS_HEADER)
            while written < size:
                member.write(ROWS)
                written += len(ROWS)
    return out.getvalue()


def forge_sizes(data: bytes, name: bytes, declared: int) -> bytes:
    """The ZIP with `name`'s uncompressed size set to `declared` in its local header and the directory."""
    forged = bytearray(data)
    # signature, offsets of the name's length, of the name and of the uncompressed size
    for signature, length_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        at = forged.find(signature)
        while at >= 0:
            length = struct.unpack("<H", forged[at + length_at : at + length_at + 2])[0]
            if forged[at + name_at : at + name_at + length] == name:
                forged[at + size_at : at + size_at + 4] = struct.pack("<I", declared)
            at = forged.find(signature, at + 4)
    return bytes(forged)


@pytest.fixture(scope="module")
def labs_190_mb() -> bytes:
    return zip_with_labs(190 * MIB)


def post_measured(api, data: bytes):
    """POST the ZIP as the body; the response and the peak of Python's allocations meanwhile (bytes)."""
    api.post("/api/v1/imports/", b"", content_type="application/zip")  # the first request loads the modules
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = api.post("/api/v1/imports/", data, content_type="application/zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


def test_a_190_mb_csv_in_a_small_zip_is_refused_naming_the_limit(api, labs_190_mb):
    assert len(labs_190_mb) < 2 * MIB
    response, peak = post_measured(api, labs_190_mb)
    assert response.status_code == 413
    assert response.json() == {"bundle": ["labs.csv holds more than 16 MB of text; split it."]}
    assert peak < 16 * MIB  # the body itself, not the 190 MB it inflates to
    assert not ImportJob.objects.exists() and not Screening.objects.exists()


def test_forged_small_sizes_are_not_trusted_the_real_bytes_are_counted(api, labs_190_mb):
    forged = forge_sizes(labs_190_mb, b"labs.csv", declared=1000)
    with zipfile.ZipFile(io.BytesIO(forged)) as archive:
        assert archive.getinfo("labs.csv").file_size == 1000  # what the headers now say
    response, peak = post_measured(api, forged)
    assert response.status_code == 413
    assert response.json() == {"bundle": ["labs.csv holds more than 16 MB of text; split it."]}
    assert peak < 16 * MIB  # read in 64 KiB chunks: stopped at the limit, never inflated whole
    assert not ImportJob.objects.exists() and not Screening.objects.exists()


def test_the_total_of_the_files_is_counted_too(monkeypatch):
    monkeypatch.setattr(bundle_zip, "MAX_TOTAL_BYTES", 3 * MIB)
    out = io.BytesIO(zip_with_labs(2 * MIB))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doses.csv", b"site,screening_number\n" + b"BCH,SRC-001\n" * (2 * MIB // 12))
    forged = forge_sizes(forge_sizes(out.getvalue(), b"labs.csv", 100), b"doses.csv", 100)
    with pytest.raises(ImportFailed) as failed:
        read_csv_bundle(forged)
    assert failed.value.errors == [
        {
            "row": "",
            "field": None,
            "code": "too_large",
            "message": "The files hold more than 3 MB of text together; split the bundle.",
        }
    ]


def test_too_many_files_and_too_large_a_directory_are_refused_unread(api):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index in range(bundle_zip.MAX_MEMBERS + 1):
            archive.writestr(f"__MACOSX/{index}", b"")
    response = api.post("/api/v1/imports/", out.getvalue(), content_type="application/zip")
    assert response.status_code == 413
    assert response.json() == {"bundle": ["The ZIP holds more than 64 files; a CSV bundle has at most 7."]}

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:  # 40 entries, each with a 30 KB name: a 1.2 MB directory
        for index in range(40):
            archive.writestr(f"{index:03d}" + "x" * 30_000, b"")
    response = api.post("/api/v1/imports/", out.getvalue(), content_type="application/zip")
    assert response.status_code == 413 and "more than 64 files" in response.json()["bundle"][0]
    assert not ImportJob.objects.exists()


def test_a_body_over_the_zip_limit_is_refused_before_it_is_read(api):
    # The declared length alone refuses it: the body is not read (a 40 MB body is never sent here).
    response = api.post("/api/v1/imports/", b"PK\x03\x04", content_type="application/zip", CONTENT_LENGTH=40 * MIB)
    assert response.status_code == 413
    assert response.json() == {"bundle": ["The ZIP is larger than 32 MB; split the bundle."]}
    upload = io.BytesIO(b"PK\x03\x04")
    upload.name = "trial.zip"
    response = api.post("/api/v1/imports/", {"bundle": upload}, format="multipart", CONTENT_LENGTH=40 * MIB)
    assert response.status_code == 413 and response.json()["bundle"][0].startswith("The ZIP is larger than 32 MB")
    assert not ImportJob.objects.exists()


def test_a_member_is_parsed_as_a_stream_with_its_lines_counted():
    # A bad byte after 1 MB of rows: found while streaming, on its own line.
    body = LABS_HEADER.decode() + "BCH,SRC-001,D3,,2026-09-06T08:00:00,TEMP,37.9,C\n" * 20_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("screenings.csv", SCREENINGS)
        archive.writestr("enrollments.csv", "site,screening_number\n")
        archive.writestr("labs.csv", body.encode() + b"BCH,SRC-001,D3,,,TEMP,37\xe9,C\n")
    with pytest.raises(ImportFailed) as failed:
        read_csv_bundle(out.getvalue())
    assert {
        "row": "labs.csv line 20002",
        "field": None,
        "code": "unreadable_text",
        "message": "Not UTF-8 text (byte 0xe9); save the file as CSV UTF-8.",
    } in (failed.value.errors)


def test_the_command_names_the_limit(clinician, labs_190_mb, tmp_path):
    path = tmp_path / "trial.zip"
    path.write_bytes(labs_190_mb)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_trial", str(path), user=clinician.username, stdout=StringIO(), stderr=err, quiet=True)
    assert "labs.csv holds more than 16 MB of text; split it." in err.getvalue()
    assert not Screening.objects.exists()
