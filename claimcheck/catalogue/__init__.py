"""The claim catalogue: one module per family; each registers its claims on import.

Modules here are discovered automatically by :func:`claimcheck.registry.catalogue_modules`.
"""
