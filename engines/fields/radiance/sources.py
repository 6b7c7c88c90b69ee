"""Reading a user's files safely: from a folder (never outside it) or from a zip's bytes (bounded).

A zip is never extracted to disk: members are read into memory, each read stops at the limit
whatever the zip's headers claim (so a zip bomb costs at most ``max_bytes`` of memory), and the
declared sizes are checked first so that an oversized archive fails before any work.
"""
from __future__ import annotations

import io
import os
import posixpath
import zipfile
from pathlib import Path

from ...errors import InvalidInputError

DEFAULT_MAX_BYTES = 200 * 2 ** 20


class FolderSource:
    """Files under ``root``; paths that lead outside it (``..``, absolute, links) are refused."""

    def __init__(self, root, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise InvalidInputError(f"no folder at {root}")
        self.max_bytes, self.label, self._read = int(max_bytes), self.root.name, 0

    def _resolve(self, name: str) -> Path:
        path = Path(os.path.realpath(self.root / name))
        if os.path.commonpath([path, self.root]) != str(self.root):
            raise InvalidInputError(f"{name} lies outside the data folder {self.label}")
        return path

    def names(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)).replace(os.sep, "/")
                      for p in self.root.rglob("*") if p.is_file())

    def exists(self, name: str) -> bool:
        return self._resolve(name).is_file()

    def read(self, name: str) -> bytes:
        path = self._resolve(name)
        if not path.is_file():
            raise InvalidInputError(f"{name}: no such file in {self.label}")
        size = path.stat().st_size
        self._read += size
        if size > self.max_bytes or self._read > self.max_bytes:
            raise InvalidInputError(f"{name}: the data is larger than the limit of {self.max_bytes / 2 ** 20:.0f} MB")
        return path.read_bytes()


class ZipSource:
    """Members of a zip archive given as bytes (an upload)."""

    def __init__(self, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, label: str = "the zip"):
        self.max_bytes, self.label = int(max_bytes), label
        if len(data) > self.max_bytes:
            raise InvalidInputError(f"{label} is {len(data) / 2 ** 20:.1f} MB, over the limit of "
                                    f"{self.max_bytes / 2 ** 20:.0f} MB")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise InvalidInputError(f"{label} is not a readable zip archive ({exc})") from None
        infos = [i for i in self.zip.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        declared = sum(i.file_size for i in infos)
        if declared > self.max_bytes:
            raise InvalidInputError(f"{label} unpacks to {declared / 2 ** 20:.0f} MB, over the limit of "
                                    f"{self.max_bytes / 2 ** 20:.0f} MB")
        self._members = {posixpath.normpath(i.filename): i for i in infos}
        self._read = 0

    def names(self) -> list[str]:
        return sorted(self._members)

    def exists(self, name: str) -> bool:
        return posixpath.normpath(name) in self._members

    def read(self, name: str) -> bytes:
        info = self._members.get(posixpath.normpath(name))
        if info is None:
            raise InvalidInputError(f"{name}: no such file in {self.label}")
        budget = self.max_bytes - self._read
        try:
            with self.zip.open(info) as member:
                data = member.read(budget + 1)  # headers can lie: never read past the limit
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            raise InvalidInputError(f"{name} in {self.label} cannot be read ({exc})") from None
        self._read += len(data)
        if len(data) > budget:
            raise InvalidInputError(f"{self.label} unpacks to more than the limit of {self.max_bytes / 2 ** 20:.0f} MB")
        return data


def open_source(source, max_bytes: int = DEFAULT_MAX_BYTES):
    """A folder path -> FolderSource; zip bytes or a .zip path -> ZipSource."""
    if isinstance(source, (FolderSource, ZipSource)):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return ZipSource(bytes(source), max_bytes)
    path = Path(source)
    if path.is_dir():
        return FolderSource(path, max_bytes)
    if path.is_file() and path.suffix.lower() == ".zip":
        if path.stat().st_size > max_bytes:
            raise InvalidInputError(f"{path.name} is over the limit of {max_bytes / 2 ** 20:.0f} MB")
        return ZipSource(path.read_bytes(), max_bytes, label=path.name)
    raise InvalidInputError(f"{source}: expected a folder or a .zip file")
