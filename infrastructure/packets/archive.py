"""The packet's zip and its signed manifest.

``manifest.json`` is the RFC 8785 canonical JSON of the packet's description (study, log origin,
checkpoint, server key, who had it built and for which site, who signs) and of every other
file's path, size and SHA-256; ``manifest.sig`` is the signer's Ed25519 signature over those
exact bytes, in base64. The zip is written reproducibly: entries in a fixed order, each with the
checkpoint's sealing time as its date, fixed permissions and fixed compression, so the same
files always give the same zip.

Reading refuses what a hostile zip could do to the reader: entry names that leave the folder,
the same name twice, more content than a packet can hold, an unpacked size out of proportion
to the zip's (a zip bomb), and bytes outside the entries (before the first one, after the end
of the central directory), where a file could hide from some readers and not from others. A zip
that passes is read an entry at a time and a chunk at a time (:class:`PacketZip`): a file is
held whole only by whoever asks for it so, never the whole packet.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from infrastructure.errors import PacketMalformed
from infrastructure.packets.evidence import FORMAT, MANIFEST, MANIFEST_SIGNATURE
from infrastructure.packets.site_scope import BuiltBy

MAX_ENTRIES = 100_000
MAX_CONTENT = 8 * 1024**3
"""A packet's files add up to at most 8 GiB once unpacked."""
MAX_INFLATION = 50
"""How many times its own size a packet's zip may unpack to, and an entry its compressed size.

A packet's files are text (JSON, CSV, XML: deflate shrinks them 10-15 times) and
PDFs (about 1): the demonstration's packet without its PDFs unpacks to 12 times its size
(891 KB to 10.9 MB; tests/packets/test_packet_zip_hardening.py holds it under half the bound).
A zip bomb unpacks to hundreds or a thousand times its size (deflate's limit is about 1032);
refused from the sizes the zip declares, before anything is inflated, it costs no more memory
than the zip itself. An entry cannot inflate past its declared size either: the
reader stops there, and the entry fails its CRC. A zip within the bound is digested a chunk at
a time, so one that unpacks 48 times costs its digest a few MiB whatever its size."""
INFLATION_ALLOWANCE = 64 * 1024
"""Bytes any entry or zip may unpack to whatever its size (a tiny file hardly compresses)."""
LOCAL_HEADER = b"PK\x03\x04"
END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
FIRST = (MANIFEST, MANIFEST_SIGNATURE, "README.txt")
"""The entries a person opening the zip meets first."""
CHUNK = 1024 * 1024
"""How much of a :class:`SpooledFile` is read back at a time."""
COMPRESSION_LEVEL = 6
"""Deflate's level for every entry: zlib's default. Level 9 made a packet of 20,000 events
2.5 % smaller (10.64 against 10.91 MB) for twice the compressing time (1.74 against 0.79 s of
CPU, 87 against 39 us an event: a sixth of the build's whole time); the sizes of an entry and
of the zip are bounded by :data:`MAX_INFLATION` whatever the level that wrote them."""


class SpooledFile:
    """A packet's file written a line or a chunk at a time to a temporary file on disk, not
    held in memory: a file as long as the log (its events, their proofs, the files derived from
    them) costs the builder a chunk of memory, not the log. Its SHA-256 and size are taken as
    it is written; once written, it is read back (:meth:`chunks`) into the zip. Close it when
    the packet is written."""

    def __init__(self) -> None:
        # Outlives this call: the builder closes it once the zip is written.
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._digest = hashlib.sha256()
        self.size = 0

    def write_line(self, line: str) -> None:
        """Append one line (its newline added)."""
        self.write((line + "\n").encode("utf-8"))

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        self._file.write(data)
        self._digest.update(data)
        self.size += len(data)

    def read(self) -> bytes:
        """All that was written, held whole: for a check that needs the whole file."""
        return b"".join(self.chunks())

    def sha256(self) -> str:
        """The hex SHA-256 of what was written so far."""
        return self._digest.hexdigest()

    def chunks(self) -> Iterator[bytes]:
        """What was written, from its start, :data:`CHUNK` bytes at a time."""
        self._file.flush()
        self._file.seek(0)
        while chunk := self._file.read(CHUNK):
            yield chunk
        self._file.seek(0, io.SEEK_END)

    def close(self) -> None:
        self._file.close()


PacketFile = bytes | SpooledFile
"""A file of a packet being built: its bytes, or spooled to disk."""

SPOOLED_FROM = 4 * 1024 * 1024
"""How large a file :func:`packet_file` spools to disk. Only the files that grow with the log
(its events, proofs, ODM, audit trail, datasets) reach it, a number the packet's layout fixes:
a file a serious adverse event (its CONEP notification) stays in memory, so a study with many
does not hold as many files open (each spooled file is one open descriptor until the zip is
written)."""


def packet_file(chunks: Iterable[bytes]) -> PacketFile:
    """A file of a packet being built, from its bytes a chunk at a time: held as bytes while it
    is smaller than :data:`SPOOLED_FROM`, else spooled to disk as it comes."""
    held: list[bytes] = []
    size = 0
    written = iter(chunks)
    for chunk in written:
        held.append(chunk)
        size += len(chunk)
        if size >= SPOOLED_FROM:
            break
    else:
        return b"".join(held)
    spool = SpooledFile()
    try:
        for chunk in itertools.chain(held, written):
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    return spool


@dataclass(frozen=True)
class ManifestSigner:
    """Who signs a packet's manifest: the account, its printed name and the key used."""

    user_id: str
    printed_name: str
    key_id: str


@dataclass(frozen=True)
class Manifest:
    """What the manifest says: the packet's description and every file's digest."""

    study: str
    origin: str
    tree_size: int
    root: str
    sealed_at: str
    server_key_id: str
    signer: ManifestSigner
    files: Mapping[str, str]
    sizes: Mapping[str, int]
    built_by: BuiltBy | None = None
    """Who had it built (absent from packets made before issue 18: the sponsor's)."""

    @property
    def site(self) -> str | None:
        """The site a site copy is of; None for the whole study's packet."""
        return None if self.built_by is None else self.built_by.site

    def body(self) -> dict[str, Any]:
        """The manifest as the JSON object that is canonicalised and signed."""
        built_by = {} if self.built_by is None else {"built_by": self.built_by.body()}
        return {
            **built_by,
            "format": FORMAT,
            "study": self.study,
            "log": {
                "origin": self.origin,
                "server_key_id": self.server_key_id,
                "checkpoint": {
                    "tree_size": self.tree_size,
                    "root": self.root,
                    "sealed_at": self.sealed_at,
                },
            },
            "signer": {
                "user_id": self.signer.user_id,
                "printed_name": self.signer.printed_name,
                "key_id": self.signer.key_id,
                "meaning": "responsibility",
            },
            "files": [
                {"path": path, "sha256": self.files[path], "size": self.sizes[path]}
                for path in sorted(self.files)
            ],
        }

    @classmethod
    def of(
        cls,
        files: Mapping[str, PacketFile],
        *,
        study: str,
        origin: str,
        tree_size: int,
        root: str,
        sealed_at: str,
        server_key_id: str,
        signer: ManifestSigner,
        built_by: BuiltBy | None = None,
    ) -> Manifest:
        """The manifest of these files."""
        return cls(
            study=study,
            origin=origin,
            tree_size=tree_size,
            root=root,
            sealed_at=sealed_at,
            server_key_id=server_key_id,
            signer=signer,
            files={path: _sha256(content) for path, content in files.items()},
            sizes={path: _size(content) for path, content in files.items()},
            built_by=built_by,
        )

    @classmethod
    def parse(cls, text: bytes) -> Manifest:
        """Read ``manifest.json``.

        Raises:
            PacketMalformed: not a manifest of this format.
        """
        try:
            body = json.loads(text)
            if body["format"] != FORMAT:
                raise PacketMalformed(
                    "%(manifest)s is of format %(format)r, not %(format2)s",
                    manifest=MANIFEST,
                    format=body["format"],
                    format2=FORMAT,
                )
            log, checkpoint, signer = body["log"], body["log"]["checkpoint"], body["signer"]
            entries = body["files"]
            files = {str(e["path"]): str(e["sha256"]) for e in entries}
            sizes = {str(e["path"]): int(e["size"]) for e in entries}
            if len(files) != len(entries):
                raise PacketMalformed("%(manifest)s lists a file twice", manifest=MANIFEST)
            return cls(
                study=str(body["study"]),
                origin=str(log["origin"]),
                tree_size=int(checkpoint["tree_size"]),
                root=str(checkpoint["root"]),
                sealed_at=str(checkpoint["sealed_at"]),
                server_key_id=str(log["server_key_id"]),
                signer=ManifestSigner(
                    str(signer["user_id"]), str(signer["printed_name"]), str(signer["key_id"])
                ),
                files=files,
                sizes=sizes,
                built_by=None if "built_by" not in body else BuiltBy.parse(body["built_by"]),
            )
        except PacketMalformed:
            raise
        except (ValueError, KeyError, TypeError) as error:
            raise PacketMalformed(
                "%(manifest)s cannot be read: %(error)r", manifest=MANIFEST, error=error
            ) from None


def sha256(content: bytes) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(content).hexdigest()


def _sha256(content: PacketFile) -> str:
    return content.sha256() if isinstance(content, SpooledFile) else sha256(content)


def _size(content: PacketFile) -> int:
    return content.size if isinstance(content, SpooledFile) else len(content)


def write_zip(files: Mapping[str, PacketFile], dated: datetime) -> bytes:
    """The zip of ``files``, reproducibly: the same files and date give the same bytes (a
    spooled file gives the bytes its content would: deflate's output does not depend on how
    its input was cut)."""
    order = [path for path in FIRST if path in files]
    order += sorted(path for path in files if path not in FIRST)
    stamp = dated.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in order:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below mean the same everywhere
            info.external_attr = 0o644 << 16
            content = files[path]
            if isinstance(content, bytes):
                archive.writestr(info, content, compresslevel=COMPRESSION_LEVEL)
                continue
            # What writestr does with bytes, a chunk at a time: the size known beforehand
            # (the local header is the same), the same level.
            info.file_size = content.size
            info._compresslevel = COMPRESSION_LEVEL  # type: ignore[attr-defined]  # compress_level from 3.13
            with archive.open(info, "w") as entry:
                for chunk in content.chunks():
                    entry.write(chunk)
    return buffer.getvalue()


@dataclass(frozen=True)
class Digest:
    """A file's SHA-256 (hex) and size, as the manifest lists them."""

    sha256: str
    size: int

    @classmethod
    def of(cls, chunks: Iterable[bytes]) -> Digest:
        """The digest of a file given a chunk at a time (never held whole)."""
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
        return cls(digest.hexdigest(), size)


class PacketZip:
    """A packet's zip, open, read an entry at a time: never more than one file in memory.

    Opening it checks the zip as a whole (layout, names, entry count, declared sizes) and
    streams every entry once, a chunk at a time, for its SHA-256 and size: ``files`` holds
    these for every readable entry, ``unreadable`` why the others (their bytes fail the zip's
    own CRC or do not inflate) cannot be read, so that the other files are still checked. A
    file's bytes are then inflated again only where they are read: whole (:meth:`read`, for a
    file that must be held whole to be checked) or line by line (:meth:`lines`).
    """

    def __init__(self, data: bytes) -> None:
        """Open ``data``.

        Raises:
            PacketMalformed: not a zip, an entry name that is absolute or climbs out (``..``),
                a name twice, too many entries or too much content.
        """
        try:
            self._archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as error:
            raise PacketMalformed("not a zip file: %(error)s", error=error) from None
        try:
            self.files, self.unreadable = self._digests(data)
        except BaseException:
            self._archive.close()
            raise

    def _digests(self, data: bytes) -> tuple[dict[str, Digest], dict[str, str]]:
        archive = self._archive
        infos = [info for info in archive.infolist() if not info.is_dir()]
        _check_layout(data, archive.infolist())
        if len(infos) > MAX_ENTRIES:
            raise PacketMalformed(
                "the zip has %(count)s entries, more than %(max_entries)s",
                count=len(infos),
                max_entries=MAX_ENTRIES,
            )
        _check_inflation(len(data), infos)
        files: dict[str, Digest] = {}
        unreadable: dict[str, str] = {}
        for info in infos:
            name = info.filename
            if name.startswith("/") or "\\" in name or ".." in name.split("/"):
                raise PacketMalformed(
                    "the zip entry %(name)r leaves the packet's folder", name=name
                )
            if name in files or name in unreadable:
                raise PacketMalformed("the zip holds %(name)r twice", name=name)
            try:
                files[name] = Digest.of(self._chunks(info))
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
                unreadable[name] = str(error) or type(error).__name__
        return files, unreadable

    def __enter__(self) -> PacketZip:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the zip go."""
        self._archive.close()

    def _chunks(self, info: zipfile.ZipInfo | str) -> Iterator[bytes]:
        """An entry's bytes, inflated a chunk at a time and never past its declared size (its
        CRC then fails if it holds more)."""
        with self._archive.open(info) as stream:
            while chunk := stream.read(READ_CHUNK):
                yield chunk

    def read(self, name: str) -> bytes:
        """A readable file's bytes, whole (one file held in memory: see :meth:`lines`)."""
        self._readable(name)
        return b"".join(self._chunks(name))

    def lines(self, name: str, *, keepends: bool = False) -> Iterator[bytes]:
        """A readable file's lines as ``bytes.splitlines(keepends)`` gives them, one line (and
        a chunk) in memory at a time."""
        self._readable(name)
        return split_lines(self._chunks(name), keepends=keepends)

    def _readable(self, name: str) -> None:
        if name not in self.files:
            raise KeyError(name)


READ_CHUNK = 1024**2
"""Bytes inflated at a time: zipfile's own ``read()`` asks the inflater for up to 2 GiB at once
and only then cuts to the declared size, so an entry that understates its size would cost the
memory of what it really inflates to; and a whole file is never needed to digest it."""


def split_lines(chunks: Iterable[bytes], *, keepends: bool = False) -> Iterator[bytes]:
    """The lines of the chunks joined, as ``bytes.splitlines(keepends)`` of the whole gives
    them, each as soon as its line break comes (a line of many chunks is joined once, at its
    end)."""
    held: list[bytes] = []  # the line under way, in chunks
    for chunk in chunks:
        if not chunk:
            continue
        if held and held[-1].endswith(b"\r"):
            # A line ended by "\r" waited for this chunk: "\r\n" is one line break.
            line = b"".join(held)
            held.clear()
            if chunk.startswith(b"\n"):
                line, chunk = line + b"\n", chunk[1:]
            yield line if keepends else line.rstrip(b"\r\n")
            if not chunk:
                continue
        parts = chunk.splitlines(keepends=True)
        if len(parts) == 1 and not parts[0].endswith((b"\n", b"\r")):
            held.append(parts[0])
            continue
        parts[0] = b"".join([*held, parts[0]])
        held.clear()
        last = parts.pop()
        for part in parts:
            yield part if keepends else part.rstrip(b"\r\n")
        if last.endswith(b"\n"):
            yield last if keepends else last.rstrip(b"\r\n")
        else:
            held.append(last)
    if held:
        line = b"".join(held)
        yield line if keepends else line.rstrip(b"\r\n")


def _check_layout(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """The zip starts with its first entry and ends with its central directory's end record.

    Python's zipfile, like many readers, skips bytes before the first entry (it takes them for
    a self-extractor's stub) and after the end record; other tools read them differently. A
    packet is never written so, so such bytes are refused, not ignored.
    """
    if not data.startswith(LOCAL_HEADER) or min(i.header_offset for i in infos) != 0:
        raise PacketMalformed("the zip has bytes before its first entry")
    end = data.rfind(END_OF_CENTRAL_DIRECTORY)
    comment_length = int.from_bytes(data[end + 20 : end + 22], "little")
    if end < 0 or end + 22 + comment_length != len(data):
        raise PacketMalformed("the zip has bytes after its end record")


def _check_inflation(size: int, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip whose declared sizes are out of proportion to it (:data:`MAX_INFLATION`)."""
    declared = sum(info.file_size for info in infos)
    if declared > MAX_CONTENT:
        raise PacketMalformed("the zip unpacks to more than a packet may hold")
    if declared > MAX_INFLATION * size + INFLATION_ALLOWANCE:
        raise PacketMalformed(
            "the zip would unpack to %(declared)s bytes, %(value)s times its own "
            "size (a packet unpacks to at most %(max_inflation)s): refused as a "
            "zip bomb",
            declared=declared,
            value=declared // max(size, 1),
            max_inflation=MAX_INFLATION,
        )
    for info in infos:
        if info.file_size > MAX_INFLATION * info.compress_size + INFLATION_ALLOWANCE:
            raise PacketMalformed(
                "the zip entry %(filename)r would inflate %(compress_size)s bytes to "
                "%(file_size)s: refused as a zip bomb",
                filename=info.filename,
                compress_size=info.compress_size,
                file_size=info.file_size,
            )
