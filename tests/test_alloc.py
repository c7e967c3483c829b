"""claimcheck._alloc: the simulation commands' allocation settings (numpy huge-page advice off,
glibc keeps freed memory) are applied once, by the simulation commands only, and left alone where
the user set the environment. (That they change no computed bit was checked when they were added:
all 71 verdicts of ``claimcheck verify --json`` identical field by field with and without them.)"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

_PROBE = r"""
import json, os, sys
from claimcheck import _alloc
out = {}
for name, env in (("default", {}), ("user_numpy", {"NUMPY_MADVISE_HUGEPAGE": "1"}), ("user_malloc", {"MALLOC_ARENA_MAX": "2"})):
    os.environ.update(env)
    _alloc._applied = None
    first = _alloc.tune_for_simulation()
    again = _alloc.tune_for_simulation()
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        from numpy.core.multiarray import _set_madvise_hugepage
    hugepage_now = _set_madvise_hugepage(True)   # returns the setting before this call
    out[name] = {"applied": first, "same_again": first == again, "hugepage_was": hugepage_now}
    for k in env:
        del os.environ[k]
print(json.dumps(out))
"""


def _glibc() -> bool:
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_settings_apply_once_and_respect_the_users_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "NUMPY_MADVISE_HUGEPAGE"}
    res = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    d = out["default"]
    assert d["applied"]["numpy_hugepage_off"] is True and d["hugepage_was"] is False and d["same_again"]
    if _glibc():
        assert d["applied"]["glibc_keep_freed"] is True
    # a user's NUMPY_MADVISE_HUGEPAGE: numpy's own setting stays (the probe set it back to True above)
    assert out["user_numpy"]["applied"]["numpy_hugepage_off"] is False and out["user_numpy"]["hugepage_was"] is True
    # any MALLOC_* variable: glibc is left as the user configured it
    assert out["user_malloc"]["applied"]["glibc_keep_freed"] is False


@pytest.mark.parametrize("command,applied", [(["verify", "ridgeless.minnorm_asymptotic", "--budget", "quick"], True),
                                             (["list"], False)])
def test_the_simulation_commands_apply_the_settings_and_the_others_do_not(monkeypatch, capsys, command, applied):
    from claimcheck import _alloc, cli

    calls = []
    monkeypatch.setattr(_alloc, "tune_for_simulation", lambda: calls.append(1) or {})
    assert cli.main(command) == 0
    assert bool(calls) is applied
