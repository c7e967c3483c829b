"""Real data the project can use without downloading anything at run time (numpy only).

* MNIST / Fashion-MNIST in IDX format (:func:`read_idx`, :func:`load_idx_dataset`); the
  package ships the real MNIST **test** set (10k images, ``t10k-*`` files, CC BY-SA 3.0) as
  package data in ``claimcheck/data/mnist`` (:func:`mnist_dir`). Experiments that need a training split cut
  one out of it themselves, with a seeded permutation.
* scikit-learn's 8x8 digits (:func:`load_digits`; bundled with scikit-learn).
* MNIST-1D (:func:`make_mnist1d`): a procedural generator (Greydanus 2020), so any number
  of fresh samples; built with ``mnist1d.data.make_dataset``, never its downloading
  ``get_dataset``.
* CIFAR-10 from a user-supplied directory of the standard python pickle batches
  (:func:`load_cifar10`), read by a restricted unpickler (:class:`CifarUnpickler`) that builds
  only dicts, lists, bytes, numbers and numpy arrays: a crafted file that names any other
  global (``os.system``, ``builtins.eval``, ...) is refused before anything runs.

Every loader validates what it reads and raises ``ValueError`` for a corrupt file and
``FileNotFoundError`` (saying which files to put where) for a missing one.

IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
``0x00 0x00 <dtype code> <ndim>``, then ``ndim`` big-endian uint32 dimension sizes, then
the data in C order, big-endian.
"""
from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np

from claimcheck.errors import DataUnavailable, require

__all__ = [
    "IDX_DTYPES",
    "IDX_FILES",
    "CIFAR10_TRAIN_BATCHES",
    "CIFAR10_TEST_BATCH",
    "read_idx",
    "load_idx_dataset",
    "mnist_dir",
    "load_digits",
    "make_mnist1d",
    "load_cifar10",
    "CifarUnpickler",
]

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code (third byte of the magic number) -> big-endian numpy dtype."""

IDX_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""split -> (images, labels) file names (each may also carry a ``.gz`` suffix)."""

CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_MNIST_URL = "http://yann.lecun.com/exdb/mnist/ (or https://github.com/zalandoresearch/fashion-mnist)"


def _as_path(name: str, value) -> Path:
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name}={value!r:.60}, must be a path (str or os.PathLike)")
    return Path(value)


def _open(path: Path):
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip-compressed or raw) into a native-endian numpy array.

    Validates the magic number (two zero bytes, a known type code, ndim >= 1) and that the
    payload size equals the product of the header's dimensions; raises ``ValueError``
    naming the file otherwise (also for a truncated gzip stream).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte")
    >>> _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p)
    array([7, 8, 9], dtype=uint8)
    """
    path = _as_path("path", path)
    if not path.is_file():
        raise DataUnavailable(f"IDX file {str(path)!r} does not exist")
    try:
        with _open(path) as fh:
            raw = fh.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{str(path)!r} is not a readable IDX file (corrupt gzip stream: {exc})") from None
    if len(raw) < 4:
        raise ValueError(f"{str(path)!r} is not an IDX file: {len(raw)} bytes, shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(f"{str(path)!r} is not an IDX file: magic number {raw[:4].hex()} must start with 0000")
    if code not in IDX_DTYPES:
        raise ValueError(f"{str(path)!r}: IDX type code 0x{code:02x}, must be one of {[hex(c) for c in IDX_DTYPES]}")
    if ndim < 1:
        raise ValueError(f"{str(path)!r}: IDX ndim={ndim}, must be >= 1")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{str(path)!r}: truncated IDX header ({len(raw)} bytes, need {header} for ndim={ndim})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        raise ValueError(f"{str(path)!r}: IDX payload has {got} bytes, header shape {shape} of {dtype} needs {expected}")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_idx_dataset(directory, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, H, W) and labels int64 (N,) of an MNIST-style IDX directory.

    File names are the standard ones (:data:`IDX_FILES`; ``.gz`` optional), so the same
    call reads MNIST and Fashion-MNIST. ``split`` is ``"train"`` or ``"test"``.
    Missing files -> ``FileNotFoundError`` naming the directory and the expected files;
    inconsistent files (wrong dtype/ndim, image/label counts differ) -> ``ValueError``.
    """
    if not isinstance(split, str) or split not in IDX_FILES:
        raise ValueError(f"split={split!r}, must be one of {sorted(IDX_FILES)}")
    directory = _as_path("directory", directory)
    img_stem, lab_stem = IDX_FILES[split]
    img_path, lab_path = _find(directory, img_stem), _find(directory, lab_stem)
    if img_path is None or lab_path is None:
        missing = [s for s, p in ((img_stem, img_path), (lab_stem, lab_path)) if p is None]
        raise DataUnavailable(
            f"IDX {split} split not found in {str(directory)!r}: missing {', '.join(f'{m}[.gz]' for m in missing)}. "
            f"Put the files {img_stem}[.gz] and {lab_stem}[.gz] (from {_MNIST_URL}) into that directory "
            f"(or unset CLAIMCHECK_MNIST_DIR to use the MNIST test set shipped with claimcheck); nothing is downloaded at run time."
        )
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{str(img_path)!r}: images have dtype {images.dtype} and ndim {images.ndim}, must be uint8 with ndim 3")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{str(lab_path)!r}: labels have dtype {labels.dtype} and ndim {labels.ndim}, must be integer with ndim 1")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"{str(directory)!r}: {images.shape[0]} images but {labels.shape[0]} labels in the {split} split")
    return images, labels.astype(np.int64)


def mnist_dir() -> Path:
    """Directory of the MNIST IDX files: ``$CLAIMCHECK_MNIST_DIR`` if set (e.g. a full MNIST with
    its ``train-*`` files, or Fashion-MNIST), else the copy shipped inside the package
    (:data:`claimcheck.data.MNIST_DIR`: the real MNIST **test** set only, ``t10k-*``, 10,000
    images; split it yourself, seeded, when an experiment needs training and evaluation data).

    >>> mnist_dir().name
    'mnist'
    """
    env = os.environ.get("CLAIMCHECK_MNIST_DIR")
    if env:
        return Path(env)
    from claimcheck.data import MNIST_DIR

    return MNIST_DIR


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits: X float64 (1797, 64) in [0, 16], y int64 (1797,).

    Read from the file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``) with the
    same ``np.loadtxt`` call ``sklearn.datasets.load_digits`` makes, so the same arrays, without
    importing ``sklearn.datasets`` (~0.15 s); the file is located without importing scikit-learn.
    """
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailable("scikit-learn is not installed: load_digits reads the digits file it ships (pip install scikit-learn)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise DataUnavailable(f"scikit-learn's digits file {str(path)!r} does not exist (reinstall scikit-learn)")
    try:
        with gzip.open(path, mode="rt", encoding="utf-8") as fh:
            data = np.loadtxt(fh, delimiter=",")
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable digits file ({exc})") from None
    if data.shape != (1797, 65) or not np.all((data >= 0) & (data <= 16) & (data == np.round(data))) or data[:, -1].max() > 9:
        raise ValueError(f"{str(path)!r}: digits data of shape {data.shape}, must be (1797, 65) integers 0..16 with labels 0..9")
    return np.ascontiguousarray(data[:, :-1]), data[:, -1].astype(np.int64)


def make_mnist1d(seed: int = 0, num_samples: int = 4000, **overrides) -> dict[str, np.ndarray]:
    """A freshly generated MNIST-1D data set (Greydanus 2020): dict with x, y, x_test, y_test.

    Built by ``mnist1d.data.make_dataset(get_dataset_args())`` with ``seed`` and
    ``num_samples`` set and any other generator argument overridden by keyword
    (``train_split``, ``template_len``, ``padding``, ``scale_coeff``, ``max_translation``,
    ``corr_noise_scale``, ``iid_noise_scale``, ``shear_scale``, ``shuffle_seq``,
    ``final_seq_length``). x float64 (N, 40), y int64. The generator seeds numpy's and
    python's global generators; their previous states are restored afterwards.
    Never calls mnist1d's downloading ``get_dataset``.
    """
    import random

    require("mnist1d", extra="gpu", purpose="make_mnist1d")
    from mnist1d.data import get_dataset_args, make_dataset
    from mnist1d.utils import ObjectView

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= 2**32 - 1:
        raise ValueError(f"seed={seed!r:.40}, must be an integer >= 0 and <= 2**32 - 1 (numpy's legacy seed range)")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or not 20 <= num_samples <= 10**7:
        raise ValueError(f"num_samples={num_samples!r:.40}, must be an integer >= 20 (at least 2 per class) and <= 10**7")
    args = get_dataset_args(as_dict=True)
    valid = set(args) - {"url", "seed", "num_samples"}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f"unknown mnist1d argument(s) {unknown}; valid: {sorted(valid)}")
    args.update(overrides, seed=int(seed), num_samples=int(num_samples))
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(ObjectView(args))
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {
        "x": np.asarray(d["x"], dtype=np.float64),
        "y": np.asarray(d["y"], dtype=np.int64),
        "x_test": np.asarray(d["x_test"], dtype=np.float64),
        "y_test": np.asarray(d["y_test"], dtype=np.int64),
    }


class CifarUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only the globals a CIFAR-10 python batch needs.

    A batch is a dict of bytes keys to a uint8 numpy array (``data``), a list of ints
    (``labels``), a list of bytes (``filenames``) and a bytes label; pickle builds all of these
    from opcodes except the numpy array, which needs :data:`ALLOWED` (numpy's array
    reconstructor, ``ndarray``, ``dtype``, and ``_codecs.encode`` for bytes pickled by Python 3
    at protocol 2). Any other global - ``os.system``, ``builtins.eval``, ``subprocess.Popen``,
    a class with a malicious ``__reduce__`` - raises ``pickle.UnpicklingError`` in
    :meth:`find_class`, before it could be called.
    """

    ALLOWED = frozenset({
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    })

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch (refused, nothing was run)")
        import importlib

        return getattr(importlib.import_module(module), name)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as fh:
            d = CifarUnpickler(fh, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError, MemoryError, OverflowError) as exc:
        raise ValueError(f"{str(path)!r} is not a CIFAR-10 python batch ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{str(path)!r} is not a CIFAR-10 python batch (unpickled a {type(d).__name__}, expected dict)")
    data = d.get(b"data", d.get("data"))
    labels = d.get(b"labels", d.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{str(path)!r}: CIFAR-10 batch must have 'data' and 'labels' entries")
    if not isinstance(data, np.ndarray) or not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError(f"{str(path)!r}: CIFAR-10 batch must hold a numpy array 'data' and a list 'labels'")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{str(path)!r}: labels must be integers in 0..9") from None
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise ValueError(f"{str(path)!r}: data has shape {data.shape} and dtype {data.dtype}, must be uint8 (N, 3072)")
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"{str(path)!r}: labels must be {data.shape[0]} integers in 0..9")
    # Rows are 1024 red, 1024 green, 1024 blue values, each a 32x32 image in row-major order.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def load_cifar10(directory, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from a directory of the standard python batches: x uint8 (N, 32, 32, 3), y int64.

    ``split="train"`` reads ``data_batch_1`` .. ``data_batch_5`` (50,000 images),
    ``split="test"`` reads ``test_batch`` (10,000). Nothing is downloaded: a missing file
    raises ``FileNotFoundError`` saying what to download and where to put it.
    """
    splits = {"train": CIFAR10_TRAIN_BATCHES, "test": (CIFAR10_TEST_BATCH,)}
    if not isinstance(split, str) or split not in splits:
        raise ValueError(f"split={split!r}, must be one of {sorted(splits)}")
    directory = _as_path("directory", directory)
    missing = [b for b in splits[split] if not (directory / b).is_file()]
    if missing:
        raise DataUnavailable(
            f"CIFAR-10 {split} split not found in {str(directory)!r}: missing {', '.join(missing)}. "
            f"Download {_CIFAR10_URL} manually, extract it, and pass the extracted 'cifar-10-batches-py' "
            f"folder (holding {', '.join(CIFAR10_TRAIN_BATCHES + (CIFAR10_TEST_BATCH,))}); nothing is downloaded at run time."
        )
    parts = [_read_cifar_batch(directory / b) for b in splits[split]]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
