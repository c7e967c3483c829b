"""The registry of claims: every claim is registered once, by id, from the catalogue.

``get_claim("id[mutant]")`` is the claim with its registered mutant ``mutant`` installed, so
every verdict's reproduce line runs, mutants included.

Claims whose check runs on *measured* results (``Claim(evidence="measurement")``, e.g. the GPU
jobs' ``gpu.<job>`` claims) are registered the same way, from the modules named in
:data:`MEASURED_MODULES` when they exist (they must import without torch);
``all_claims(evidence="measurement")`` lists them and ``claimcheck verify`` leaves them out.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from claimcheck.claim import Claim

__all__ = ["register", "get_claim", "all_claims", "claim_ids", "catalogue_modules", "MEASURED_MODULES"]

_REGISTRY: dict[str, Claim] = {}
_loaded = False

MEASURED_MODULES: tuple[str, ...] = ("claimcheck.gpu_validation.claims",)
"""Modules that register claims decided on measured results (imported if present)."""


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique; ``[`` is reserved for mutants)."""
    if "[" in claim.id or "]" in claim.id:
        raise ValueError(f"claim id {claim.id!r} must not contain '[' or ']' (reserved for 'id[mutant]')")
    if claim.id in _REGISTRY and _REGISTRY[claim.id] is not claim:
        raise ValueError(f"claim id {claim.id!r} is already registered")
    _REGISTRY[claim.id] = claim
    return claim


def catalogue_modules() -> list[str]:
    """Every module of ``claimcheck.catalogue`` (one per family of claims), ridgeless first."""
    import claimcheck.catalogue as cat

    names = sorted(m.name for m in pkgutil.iter_modules(cat.__path__) if not m.name.startswith("_"))
    names.sort(key=lambda m: m != "ridgeless")
    return [f"claimcheck.catalogue.{m}" for m in names]


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _load() -> None:
    global _loaded
    if not _loaded:
        for mod in catalogue_modules():
            importlib.import_module(mod)
        for mod in MEASURED_MODULES:
            if _module_exists(mod):
                importlib.import_module(mod)
        _loaded = True


def claim_ids(evidence: str | None = None) -> list[str]:
    """Registered ids in catalogue order (ridgeless first, then families alphabetically;
    registration order within a family; measured-result families last), whatever order the
    modules were imported in. ``evidence`` ("simulation" / "measurement") filters."""
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
    """The registered claim with this id (``"id[mutant]"``: with that registered mutant
    installed); a ValueError lists the valid ids (or mutants) otherwise."""
    if isinstance(claim_id, Claim):
        return claim_id
    _load()
    if isinstance(claim_id, str) and claim_id.endswith("]") and "[" in claim_id:
        base, _, name = claim_id[:-1].partition("[")
        return get_claim(base).mutant(name)[0]
    try:
        return _REGISTRY[claim_id]
    except (KeyError, TypeError):
        raise ValueError(f"unknown claim id {claim_id!r}; valid ids: {', '.join(claim_ids())}") from None
