"""Nothing untrusted is unpickled: CIFAR-10 batches go through a restricted unpickler, and the
source holds no unsafe load (torch.load without weights_only=True, np.load without
allow_pickle=False, bare pickle.load, yaml.load, marshal, shelve, dill)."""
from __future__ import annotations

import io
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from claimcheck.sims import datasets as D

ROOT = Path(__file__).resolve().parents[1]


def _batch(n: int = 3, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"testing batch 1 of 1", b"labels": rng.integers(0, 10, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"img_%d.png" % i for i in range(n)]}


def _python2_style(blob: bytes) -> bytes:
    """The module names a Python 2 / numpy 1 pickle of the same batch carries (the format of the
    official batches; protocol 2 GLOBAL opcodes are text lines, so the lengths may change)."""
    return blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray").replace(b"numpy._core.numeric", b"numpy.core.numeric")


@pytest.mark.parametrize("protocol,py2_names", [(2, False), (2, True), (4, False), (5, False)])
def test_a_genuine_batch_loads_through_the_restricted_unpickler(tmp_path, protocol, py2_names):
    b = _batch()
    blob = pickle.dumps(b, protocol=protocol)
    (tmp_path / "test_batch").write_bytes(_python2_style(blob) if py2_names else blob)
    x, y = D.load_cifar10(tmp_path, "test")
    assert x.shape == (3, 32, 32, 3) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, b[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y.tolist() == b[b"labels"]


class _TouchFile:
    """A payload: unpickling it calls builtins.open(path, 'w'), creating the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class _Shell:
    """A payload: unpickling it runs a shell command (os.system) that creates a file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _crafted(kind: str, marker: Path):
    if kind == "open() at top level":
        return _TouchFile(marker)
    if kind == "os.system at top level":
        return _Shell(marker)
    if kind == "payload inside a genuine batch":
        return {**_batch(), b"extra": _Shell(marker)}
    if kind == "payload as the labels":
        return {**_batch(), b"labels": _TouchFile(marker)}
    if kind == "payload inside an object array":
        return {**_batch(), b"data": np.array([_Shell(marker)], dtype=object)}
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["open() at top level", "os.system at top level", "payload inside a genuine batch",
                                  "payload as the labels", "payload inside an object array"])
def test_a_crafted_batch_is_refused_and_executes_nothing(tmp_path, kind):
    marker = tmp_path / "pwned"
    data = tmp_path / "cifar"
    data.mkdir()
    blob = pickle.dumps(_crafted(kind, marker), protocol=2)
    # the payload is real: plain pickle.loads runs it and creates the file
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_crafted(kind, probe), protocol=2))
    assert probe.exists(), "the payload should work against an unrestricted unpickler"
    (data / "test_batch").write_bytes(blob)
    with pytest.raises(ValueError) as err:
        D.load_cifar10(data, "test")
    assert "test_batch" in str(err.value) and "not allowed" in str(err.value)
    assert not marker.exists(), "the crafted batch executed code"


def test_the_unpickler_refuses_any_global_outside_its_list():
    for module, name in [("builtins", "eval"), ("os", "system"), ("posix", "system"), ("subprocess", "Popen"),
                         ("numpy", "load"), ("copyreg", "_reconstructor"), ("numpy.core.multiarray", "frombuffer")]:
        with pytest.raises(pickle.UnpicklingError, match="not allowed"):
            D.CifarUnpickler(io.BytesIO(b"")).find_class(module, name)


def test_the_crafted_batch_is_refused_in_a_fresh_interpreter(tmp_path):
    """End to end, as a user runs it: a separate process loads the folder; the marker never appears."""
    marker = tmp_path / "pwned"
    (tmp_path / "test_batch").write_bytes(pickle.dumps(_Shell(marker), protocol=2))
    code = ("import sys\nfrom claimcheck.sims.datasets import load_cifar10\n"
            "try:\n    load_cifar10(sys.argv[1], 'test')\nexcept ValueError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and not marker.exists()


# --------------------------------------------------------------------------- the source holds no unsafe load
SOURCES = [p for d in ("claimcheck", "theory", "sims", "paper_figures", "gpu_validation", "benchmarks")
           for p in sorted((ROOT / d).rglob("*.py"))]


def _calls(text: str, name: str) -> list[str]:
    """Every call ``name(...)`` in ``text`` with its argument text (balanced parentheses)."""
    out = []
    for m in re.finditer(re.escape(name) + r"\s*\(", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        out.append(text[m.end():i - 1])
    return out


def test_the_source_tree_is_found():
    assert any(p.name == "datasets.py" for p in SOURCES) and len(SOURCES) > 40


def test_every_torch_load_is_weights_only_and_every_np_load_refuses_pickles():
    bad = []
    for path in SOURCES:
        text = path.read_text()
        for args in _calls(text, "torch.load"):
            if not re.search(r"weights_only\s*=\s*True", args):
                bad.append(f"{path.relative_to(ROOT)}: torch.load({args.strip()[:60]}) without weights_only=True")
        for name in ("np.load", "numpy.load"):
            for args in _calls(text, name):
                if not re.search(r"allow_pickle\s*=\s*False", args):
                    bad.append(f"{path.relative_to(ROOT)}: {name}({args.strip()[:60]}) without allow_pickle=False")
    assert not bad, "\n".join(bad)


def test_no_unrestricted_unpickling_anywhere():
    patterns = [r"\bpickle\.loads?\s*\(", r"\bpickle\.Unpickler\s*\(", r"\bcloudpickle\.loads?\b",
                r"\byaml\.(unsafe_)?load\s*\(", r"\bmarshal\.loads?\b", r"\bshelve\.open\b", r"\bdill\.loads?\b",
                r"\bjoblib\.load\b", r"\bpandas\.read_pickle\b", r"\bpd\.read_pickle\b"]
    bad = []
    for path in SOURCES:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if any(re.search(p, line) for p in patterns):
                bad.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not bad, "unrestricted unpickling:\n" + "\n".join(bad)


def test_the_grep_itself_catches_unsafe_loads():
    """The checks above are not vacuous: each flags a line that does the unsafe thing."""
    assert _calls("x = torch.load(f, map_location='cpu')", "torch.load") == ["f, map_location='cpu'"]
    assert not re.search(r"weights_only\s*=\s*True", _calls("torch.load(f, weights_only=False)", "torch.load")[0])
    assert re.search(r"allow_pickle\s*=\s*False", _calls("np.load(f, allow_pickle=False)", "np.load")[0])
    assert re.search(r"\bpickle\.loads?\s*\(", "d = pickle.load(fh, encoding='bytes')")
