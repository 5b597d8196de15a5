"""Atomic, durable file writes, and the TinyDB storage built on them.

A write goes to a temporary file in the same folder, is flushed and fsynced,
then ``os.replace``-d over the target and the folder is fsynced: a process
killed at any moment leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from ..errors import StoreError

TEMP_SUFFIX = ".tmp"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably."""
    temp = path.with_name(f"{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(temp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            temp.unlink()
        except OSError:
            pass
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a folder so a rename or a new file in it survives a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``StoreError`` naming the file if it is unreadable or corrupt."""
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        raise StoreError(f"store file {path} is missing (数据库文件不见了)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"store file {path} is corrupt (not valid JSON: {exc}) (数据库文件已损坏)") from None
    except OSError as exc:
        raise StoreError(f"cannot read store file {path}: {exc.strerror or exc} (无法读取数据库文件)") from None


class AtomicJSONStorage(Storage):
    """A TinyDB storage whose every write replaces the file atomically and durably.

    Use it like TinyDB's own ``JSONStorage``: ``TinyDB(path, storage=AtomicJSONStorage)``.
    A missing file reads as an empty database; a corrupt one raises ``StoreError``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self.path.exists():
            return None
        data = read_json(self.path)
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise StoreError(f"store file {self.path} is corrupt (not a TinyDB database) (数据库文件已损坏)")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        try:
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"a document cannot be stored as JSON: {exc}") from None
        try:
            write_atomic(self.path, text)
        except OSError as exc:
            raise StoreError(f"cannot write store file {self.path}: {exc.strerror or exc} (无法写入数据库文件)") from None

    def close(self) -> None:
        pass
