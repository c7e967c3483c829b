"""The registry of claims: every claim is registered once, by id, from the catalogue."""
from __future__ import annotations

import importlib
import pkgutil

from claimcheck.claim import Claim

__all__ = ["register", "get_claim", "all_claims", "claim_ids", "catalogue_modules"]

_REGISTRY: dict[str, Claim] = {}
_loaded = False


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique)."""
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


def _load() -> None:
    global _loaded
    if not _loaded:
        for mod in catalogue_modules():
            importlib.import_module(mod)
        _loaded = True


def claim_ids() -> list[str]:
    """Registered ids in catalogue order (ridgeless first, then families alphabetically;
    registration order within a family), whatever order the modules were imported in."""
    _load()
    families = [m.rsplit(".", 1)[1] for m in catalogue_modules()]
    rank = {f: i for i, f in enumerate(families)}
    position = {cid: i for i, cid in enumerate(_REGISTRY)}
    return sorted(_REGISTRY, key=lambda cid: (rank.get(cid.split(".", 1)[0], len(rank)), position[cid]))


def all_claims() -> list[Claim]:
    return [_REGISTRY[cid] for cid in claim_ids()]


def get_claim(claim_id: "str | Claim") -> Claim:
    """The registered claim with this id; a ValueError lists the valid ids otherwise."""
    if isinstance(claim_id, Claim):
        return claim_id
    _load()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise ValueError(f"unknown claim id {claim_id!r}; valid ids: {', '.join(claim_ids())}") from None
