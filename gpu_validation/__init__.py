"""Deep-network counterparts of the claims (GPU validation suite).

Not implemented yet: the jobs (deep double descent, Real vs Ideal World, hypersphere,
PAC-Bayes bound of a trained net, feature calibration) are tracked by their own issue.
This package exists so the layout is stable; it exposes nothing.
"""
