"""claimcheck: closed-form claims of deep-learning theory, checked by simulation.

>>> import claimcheck
>>> claim = claimcheck.get_claim("ridgeless.minnorm_finite")
>>> claim.check(budget="quick", seed=0).status.value
'passed'
"""
from claimcheck.budget import BUDGETS, Budget
from claimcheck.claim import Claim, Mutant
from claimcheck.estimate import Estimate
from claimcheck.registry import all_claims, claim_ids, get_claim, register
from claimcheck.verdict import Status, Verdict

__all__ = [
    "Claim", "Mutant", "Estimate", "Verdict", "Status", "Budget", "BUDGETS",
    "register", "get_claim", "all_claims", "claim_ids",
]
__version__ = "0.1.0"
