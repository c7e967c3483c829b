"""The registry of claims: every claim is registered once, by id.

Three sources, in this order:

1. the built-in catalogue (``claimcheck.catalogue.*``, one module per family);
2. installed packages that declare the entry-point group ``claimcheck.claims``
   (``[project.entry-points."claimcheck.claims"] mine = "my_package.claims"``): the module is
   imported (it calls :func:`register`), or, if the entry point names a callable, it is called and
   may return claims to register;
3. modules or files loaded at run time with :func:`load_claims` (``claimcheck verify --module
   my_claims`` or ``--module path/to/my_claims.py``).

Each registered claim remembers where it came from (:func:`origin_of`), so a verdict's reproduce
line imports what is needed in a fresh interpreter. ``get_claim("id[mutant]")`` is the claim with
its registered mutant ``mutant`` installed, so every verdict's reproduce line runs, mutants included.

Claims whose check runs on *measured* results (``Claim(evidence="measurement")``, e.g. the GPU
jobs' ``gpu.<job>`` claims) are registered the same way, from the modules named in
:data:`MEASURED_MODULES` when they exist (they must import without torch);
``all_claims(evidence="measurement")`` lists them and ``claimcheck verify`` leaves them out unless
named.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import warnings
from pathlib import Path

from claimcheck.claim import Claim

__all__ = [
    "ENTRY_POINT_GROUP", "register", "get_claim", "all_claims", "claim_ids", "catalogue_modules",
    "load_claims", "origin_of", "plugin_errors", "reproduce_call", "MEASURED_MODULES",
]

MEASURED_MODULES: tuple[str, ...] = ("claimcheck.gpu_validation.claims",)
"""Modules that register claims decided on measured results (imported with the catalogue if present)."""

ENTRY_POINT_GROUP = "claimcheck.claims"

_REGISTRY: dict[str, Claim] = {}
_ORIGIN: dict[str, str] = {}        # claim id -> "builtin" | "entry-point:NAME" | a module name | a file path
_PLUGIN_ERRORS: dict[str, str] = {}  # entry-point name -> why it failed to load
_loaded = False
_loading_origin: list[str] = []     # the source being loaded (stack), recorded by register()


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique); returns it, so
    ``my_claim = register(Claim(...))`` registers at import time."""
    if not isinstance(claim, Claim):
        raise TypeError(f"claim={claim!r}, must be a claimcheck.Claim")
    if "[" in claim.id or "]" in claim.id:
        raise ValueError(f"claim id {claim.id!r} must not contain '[' or ']' (reserved for 'id[mutant]')")
    if claim.id in _REGISTRY and _REGISTRY[claim.id] is not claim:
        raise ValueError(f"claim id {claim.id!r} is already registered (from {_ORIGIN.get(claim.id, '?')})")
    _REGISTRY[claim.id] = claim
    if claim.id not in _ORIGIN:
        _ORIGIN[claim.id] = _loading_origin[-1] if _loading_origin else _module_of(claim)
    return claim


def _module_of(claim: Claim) -> str:
    """The module that defined ``claim`` (its ``module`` field), 'builtin' for the catalogue."""
    mod = getattr(claim, "module", None) or ""
    return "builtin" if mod.startswith("claimcheck.") else mod


def catalogue_modules() -> list[str]:
    """Every module of ``claimcheck.catalogue`` (one per family of claims), ridgeless first."""
    import claimcheck.catalogue as cat

    names = sorted(m.name for m in pkgutil.iter_modules(cat.__path__) if not m.name.startswith("_"))
    names.sort(key=lambda m: m != "ridgeless")
    return [f"claimcheck.catalogue.{m}" for m in names]


def _entry_points():
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    _loading_origin.append("builtin")
    try:
        for mod in catalogue_modules():
            importlib.import_module(mod)
        for mod in MEASURED_MODULES:
            if _module_exists(mod):
                importlib.import_module(mod)
    finally:
        _loading_origin.pop()
    for ep in _entry_points():
        _loading_origin.append(f"entry-point:{ep.name}")
        try:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, type(sys)):
                for claim in obj() or ():
                    register(claim)
        except Exception as exc:  # a broken plugin is reported, not allowed to break claimcheck
            _PLUGIN_ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"claimcheck: the claims plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                          RuntimeWarning, stacklevel=2)
        finally:
            _loading_origin.pop()


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def plugin_errors() -> dict[str, str]:
    """Entry points of group ``claimcheck.claims`` that failed to load, with the reason."""
    _load()
    return dict(_PLUGIN_ERRORS)


def load_claims(source: str) -> list[str]:
    """Import a module by name (``"my_claims"``, looked up on ``sys.path`` and the current folder)
    or a Python file by path (``"path/to/my_claims.py"``) whose import registers claims; returns
    the ids it registered. Loading the same source twice registers nothing new.

    A module-level ``CLAIMS = [...]`` of unregistered claims is registered too, so a file may
    just define its claims.
    """
    if not isinstance(source, str) or not source:
        raise TypeError(f"source={source!r}, must be a module name or a path to a .py file")
    _load()
    before = set(_REGISTRY)
    path = Path(source)
    if source.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ValueError(f"--module {source!r}: no such file")
        path = path.resolve()
        origin = str(path)
        name = f"claimcheck_user_{path.stem}_{abs(hash(origin)) % 10**8}"
        if name in sys.modules:
            return []
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        _loading_origin.append(origin)
        try:
            spec.loader.exec_module(module)
            _register_listed(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        finally:
            _loading_origin.pop()
    else:
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        _loading_origin.append(source)
        try:
            try:
                module = importlib.import_module(source)
            except ModuleNotFoundError as exc:
                if exc.name == source.split(".")[0]:
                    raise ValueError(f"--module {source!r}: no module of that name on sys.path or in {Path.cwd()}") from None
                raise
            _register_listed(module)
        finally:
            _loading_origin.pop()
    return [cid for cid in _REGISTRY if cid not in before]


def _register_listed(module) -> None:
    for claim in getattr(module, "CLAIMS", ()) or ():
        if _REGISTRY.get(getattr(claim, "id", None)) is not claim:
            register(claim)


def origin_of(claim_id: str) -> str | None:
    """Where a registered claim came from: ``"builtin"``, ``"entry-point:NAME"``, a module name
    or a file path (what a reproduce line must load first); None if not registered."""
    return _ORIGIN.get(claim_id) if claim_id in _REGISTRY else None


def reproduce_call(claim: Claim) -> str:
    """The Python expression (with any imports it needs first, ``;``-separated) that evaluates to
    ``claim`` in a fresh interpreter: ``claimcheck.get_claim(id)`` for a registered claim (with
    ``import my_claims;`` or ``claimcheck.load_claims('path.py');`` in front for user claims),
    ``from module import name; name`` for an unregistered module-level claim, else
    :data:`UNREACHABLE`."""
    cid = claim.id
    base_id, name = _split_mutant(cid)
    if name is not None and base_id in _REGISTRY:  # a registered mutant: get_claim("id[mutant]") rebuilds it
        base = _REGISTRY[base_id]
        if any(m.name == name and m.predict is claim.predict for m in base.mutants):
            prefix, _, _ = reproduce_call(base).rpartition("; ")
            return f"{prefix}; claimcheck.get_claim({cid!r})"
    if _REGISTRY.get(cid) is claim:
        origin = _ORIGIN.get(cid, "builtin")
        get = f"claimcheck.get_claim({cid!r})"
        if origin == "builtin" or origin.startswith("entry-point:"):
            return "import claimcheck; " + get
        if origin.endswith(".py"):
            return f"import claimcheck; claimcheck.load_claims({origin!r}); " + get
        if origin in ("", "__main__"):
            return "import claimcheck; " + get
        return f"import claimcheck, {origin}; " + get
    mod = getattr(claim, "module", None)
    module = sys.modules.get(mod) if mod else None
    if module is not None and mod != "__main__":
        for name, value in vars(module).items():
            if value is claim:
                return f"from {mod} import {name}; {name}"
    return UNREACHABLE


UNREACHABLE = "?"
""":func:`reproduce_call` of a claim that no import reaches (not registered, not a module global)."""


def _split_mutant(claim_id: str):
    """("id", "mutant") for "id[mutant]", else (claim_id, None)."""
    if isinstance(claim_id, str) and claim_id.endswith("]") and "[" in claim_id:
        base, _, name = claim_id[:-1].partition("[")
        return base, name
    return claim_id, None


def claim_ids(evidence: str | None = None) -> list[str]:
    """Registered ids in catalogue order (ridgeless first, then families alphabetically;
    registration order within a family; then plugin and user claims in registration order;
    claims on measured results last), whatever order the modules were imported in.
    ``evidence`` ("simulation" / "measurement") keeps only those claims."""
    _load()
    families = [m.rsplit(".", 1)[1] for m in catalogue_modules()]
    rank = {f: i for i, f in enumerate(families)}
    position = {cid: i for i, cid in enumerate(_REGISTRY)}
    ids = [c for c in _REGISTRY if evidence is None or _REGISTRY[c].evidence == evidence]
    return sorted(ids, key=lambda cid: (_REGISTRY[cid].evidence != "simulation", rank.get(cid.split(".", 1)[0], len(rank)),
                                        position[cid]))


def all_claims(evidence: str | None = None) -> list[Claim]:
    """Registered claims (all, or those whose ``evidence`` is "simulation" / "measurement")."""
    return [_REGISTRY[cid] for cid in claim_ids(evidence)]


def get_claim(claim_id: "str | Claim") -> Claim:
    """The registered claim with this id (``"id[mutant]"``: with that registered mutant installed);
    a ValueError lists the valid ids (or mutants) otherwise."""
    if isinstance(claim_id, Claim):
        return claim_id
    if not isinstance(claim_id, str):
        raise TypeError(f"claim_id={claim_id!r}, must be a claim id (str) or a Claim")
    _load()
    base, name = _split_mutant(claim_id)
    if name is not None:
        return get_claim(base).mutant(name)[0]
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise ValueError(f"unknown claim id {claim_id!r}; valid ids: {', '.join(claim_ids())}") from None
