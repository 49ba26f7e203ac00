"""Folders and files only their owner can read, for what distml keeps on shared hosts.

Checkpoints (a model's state) and the per-host partition store (training data) live under
system-wide roots such as the temp dir and /dev/shm, where every local user can create names.
A predictable path there is only safe if distml checks it: the folder is created with mode
0700, and an existing one is used only if it is a real directory (not a symlink), owned by
this user and closed to others; files are created 0600, and written durably when asked.
"""
from __future__ import annotations

import os
import stat

from distml.errors import PersistenceError


def user_folder(base: str) -> str:
    """This user's folder under a shared ``base`` (``distml-<uid>``); see ``private_dir``."""
    user = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return os.path.join(base, f"distml-{user}")


def private_dir(path: str) -> str:
    """``path`` as a directory only this user can enter: created 0700, or checked if it exists.

    The parents are created as needed (with the umask, as any folder); the last component is
    the one that must be private.
    """
    parent = os.path.dirname(path.rstrip("/"))
    if parent:
        os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    check_private(path)
    return path


def check_private(path: str) -> None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PersistenceError(f"'{path}' is not a plain directory (a symlink or a file); "
                               "distml will not use it: remove it")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PersistenceError(f"'{path}' belongs to another user (uid {info.st_uid}); distml "
                               "will not keep data there: remove it or choose another folder")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)  # ours, but opened by an earlier umask: close it


def write_private(path: str, data, durable: bool = False) -> None:
    """A new file only its owner can read; with ``durable``, on disk before this returns."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(fd)
    finally:
        os.close(fd)


def sync_dir(path: str) -> None:
    """Make a rename or removal in ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
