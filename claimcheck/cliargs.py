"""argparse value types shared by ``claimcheck`` and ``claimcheck gpu`` (one place: no import
cycle between :mod:`claimcheck.cli` and :mod:`claimcheck.gpu_validation.cli`)."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

__all__ = ["positive_int", "nonneg_int", "check_output_file", "check_output_dir"]


def positive_int(text: str) -> int:
    """argparse type for process counts: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}, must be an integer >= 1")
    return value


def nonneg_int(text: str) -> int:
    """argparse type for seeds and counts: an integer >= 0, with a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed={value}, must be >= 0")
    return value


def _existing_ancestor(option: str, path: Path, start: Path | None = None) -> Path:
    """The nearest existing folder at or above ``start`` (default ``path``); ValueError naming
    ``path`` if a file is in the way."""
    anc = path if start is None else start
    while not anc.exists() and not anc.is_symlink():
        if anc.parent == anc:
            break
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise ValueError(f"{option} {path}: {anc} is a file, must be a folder")
    return anc


def _probe_writable(option: str, path: Path, folder: Path) -> None:
    """Create and remove a temp file in ``folder`` (or check access to the folder that would
    hold it): the only reliable writability test (os.access ignores ACLs and is always true for
    root, a read-only mount or a full disk is only seen by writing)."""
    try:
        if folder.is_dir():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".claimcheck-probe-", suffix=".tmp")
            os.close(fd)
            os.unlink(tmp)
        elif not os.access(_existing_ancestor(option, path, folder), os.W_OK | os.X_OK):
            raise PermissionError("permission denied")
    except OSError as exc:
        raise ValueError(f"{option} {path}: not writable ({exc.strerror or exc})") from None


def check_output_file(option: str, path) -> Path:
    """Refuse, before any work starts, an output file path that cannot be written: a folder, a
    path below a file, or an unwritable location. ValueError naming the option (one line)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder, must be a file path")
    _existing_ancestor(option, path, path.parent)
    _probe_writable(option, path, path.parent)
    return path


def check_output_dir(option: str, path, *, no_symlinks: bool = False) -> Path:
    """Refuse, before any work starts, an output folder that cannot be used: an existing file,
    a path below a file, an unwritable location, and (``no_symlinks``) a symbolic link."""
    path = Path(path)
    if no_symlinks and path.is_symlink():
        raise ValueError(f"{option} {path}: is a symbolic link, must be a real folder (output is never written through links)")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path}: is a file, must be a folder")
    _existing_ancestor(option, path)
    _probe_writable(option, path, path)
    return path
