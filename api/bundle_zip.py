"""The CSV bundle's ZIP, read without trusting what its headers declare.

A ZIP's directory declares each file's size, but a forged one can declare anything, and
zipfile's read() of a whole member inflates all its compressed data in one call (up to 2 GB
at once) before cutting it to the declared size. Here every member is read in chunks of
64 KiB to the real end of its data and the bytes really inflated are counted: reading stops
at the first chunk over a limit, whatever was declared, and the refusal names the limit. The directory itself is
measured before zipfile parses it, so a ZIP of a million empty entries is refused unread.

Each CSV file is read twice, as a stream both times: first to count its bytes and check its
text (UTF-8, no NUL, an intact CRC), so that a bundle over a limit is refused before a row is
built; then to parse it (csv over io.TextIOWrapper). No file is ever held whole in memory.

The limits hold ten times the data of a large trial (a few hundred children with every visit
come to a few MB of CSV) while bounding a web worker: the rows of 1 MB of CSV take about 25 MB
as Python objects, so 32 MB of CSV stays under 1 GB.
"""

import codecs
import copy
import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import BinaryIO

MIB = 2**20
MAX_ZIP_BYTES = 32 * MIB  # the ZIP as sent (compressed)
MAX_MEMBERS = 64  # entries in the ZIP, folders and ignored files included
MAX_DIRECTORY_BYTES = 1 * MIB  # the ZIP's central directory (about 64 entries with names of 16 KB)
MAX_MEMBER_BYTES = 16 * MIB  # the text of one CSV file, as inflated
MAX_TOTAL_BYTES = 32 * MIB  # the text of all the CSV files together
CHUNK = 64 * 1024

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError)


class BundleTooLarge(Exception):
    """A limit of the CSV bundle is exceeded; the message names it (the API answers 413)."""


def megabytes(limit: int) -> str:
    return f"{limit // MIB} MB"


def is_zip(source: bytes | BinaryIO) -> bool:
    if isinstance(source, bytes | bytearray):
        return bytes(source[:4]) in ZIP_SIGNATURES
    start = source.tell()
    head = source.read(4)
    source.seek(start)
    return head in ZIP_SIGNATURES


def ignored(name: str) -> bool:
    """Folders, macOS's __MACOSX/ resource forks and hidden files (.DS_Store) are not the bundle's."""
    path = PurePosixPath(name)
    return name.endswith("/") or "__MACOSX" in path.parts or path.name.startswith(".")


def _size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _directory_size(stream: BinaryIO, size: int) -> int | None:
    """The size of the central directory as its end record declares it (zipfile reads that much at once)."""
    tail_start = max(0, size - (22 + 65535))
    stream.seek(tail_start)
    tail = stream.read()
    stream.seek(0)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return None
    directory = struct.unpack("<I", tail[end + 12 : end + 16])[0]
    locator = end - 20  # a ZIP64 end record's locator stands just before the end record
    if directory == 0xFFFFFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
        stream.seek(offset)
        record = stream.read(56)
        stream.seek(0)
        if len(record) == 56 and record[:4] == b"PK\x06\x06":
            directory = struct.unpack("<Q", record[40:48])[0]
    return directory


def open_archive(source: bytes | BinaryIO) -> zipfile.ZipFile:
    """The ZIP, once its size and its directory are within the limits.

    Raises BundleTooLarge naming the limit, zipfile.BadZipFile if it is not a ZIP.
    """
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    size = _size(stream)
    if size > MAX_ZIP_BYTES:
        raise BundleTooLarge(f"The ZIP is larger than {megabytes(MAX_ZIP_BYTES)}; split the bundle.")
    directory = _directory_size(stream, size)
    if directory is not None and directory > MAX_DIRECTORY_BYTES:
        raise BundleTooLarge(f"The ZIP holds more than {MAX_MEMBERS} files; a CSV bundle has at most 7.")
    archive = zipfile.ZipFile(stream)
    if len(archive.infolist()) > MAX_MEMBERS:
        raise BundleTooLarge(f"The ZIP holds more than {MAX_MEMBERS} files; a CSV bundle has at most 7.")
    return archive


def declared_sizes_check(members: list[zipfile.ZipInfo]) -> None:
    """Refuse at once what the directory already says is too large (the reading counts the real bytes).

    Only stored and deflated files are read: zipfile inflates one chunk of bzip2 or LZMA data
    whole, however large it grows, and no spreadsheet or archiver writes them for CSV files.
    """
    for info in members:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleTooLarge(f"{info.filename} is compressed with another method than deflate; zip it again.")
        if info.file_size > MAX_MEMBER_BYTES:
            raise BundleTooLarge(_member_message(info.filename))
    if sum(info.file_size for info in members) > MAX_TOTAL_BYTES:
        raise BundleTooLarge(_total_message())


def _member_message(name: str) -> str:
    return f"{name} holds more than {megabytes(MAX_MEMBER_BYTES)} of text; split it."


def _total_message() -> str:
    return f"The files hold more than {megabytes(MAX_TOTAL_BYTES)} of text together; split the bundle."


class Budget:
    """The bytes really inflated, per file and in total, against the limits."""

    def __init__(self):
        self.total = 0

    def count(self, name: str, member_bytes: int, added: int) -> None:
        self.total += added
        if member_bytes > MAX_MEMBER_BYTES:
            raise BundleTooLarge(_member_message(name))
        if self.total > MAX_TOTAL_BYTES:
            raise BundleTooLarge(_total_message())


class _CountedMember(io.RawIOBase):
    """A member of the ZIP read in chunks, each counted against the budget as it is inflated."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget):
        # zipfile stops at the size the directory declares (and then calls a longer member damaged);
        # opened as if it could hold more than the limit, the member is read to the real end of its
        # compressed data, and the budget, not the header, says when it is too large.
        unbounded = copy.copy(info)
        unbounded.file_size = sys.maxsize
        self.member = archive.open(unbounded)
        self.name = info.filename
        self.budget = budget
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.member.read(min(len(buffer), CHUNK))
        self.read_bytes += len(data)
        self.budget.count(self.name, self.read_bytes, len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.member.close()
        super().close()


def chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> Iterator[bytes]:
    member = _CountedMember(archive, info, budget)
    try:
        while data := member.read(CHUNK):
            yield data
    finally:
        member.close()


def text_problem(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> tuple[int | None, str] | None:
    """Read a member through once: (line, message) if it cannot be read as UTF-8 text without NUL.

    Raises BundleTooLarge at the first chunk over a limit. Lines are counted by their line
    feeds, the header being line 1 (a quoted line break counts, as in a text editor).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    try:
        for data in chunks(archive, info, budget):
            try:
                decoder.decode(data)
            except UnicodeDecodeError as exc:
                # exc.object is the undecoded tail of the chunk before plus this chunk: no line feed in that tail.
                line = lines + exc.object[: exc.start].count(b"\n") + 1
                return line, f"Not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as CSV UTF-8."
            if (nul := data.find(b"\x00")) >= 0:
                return lines + data[:nul].count(b"\n") + 1, "The line contains a NUL character."
            lines += data.count(b"\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        return lines + 1, f"Not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as CSV UTF-8."
    except READ_ERRORS as exc:
        return None, f"The file cannot be read from the ZIP ({exc})."
    return None


def text_stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> io.TextIOWrapper:
    """A member's text as a stream of lines (universal line ends kept, for the csv module)."""
    raw = io.BufferedReader(_CountedMember(archive, info, budget), CHUNK)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
