"""Progress inside a long check: while ``claimcheck verify`` runs one check, the bar's postfix
keeps moving with the elapsed time and the engine's current doubling round."""
from __future__ import annotations

import time

from claimcheck import Claim, Estimate
from claimcheck.checks import Exact
from claimcheck.progress import note, ticking


class _Bar:
    """What ticking needs of a tqdm bar; records every postfix it is given."""
    disable = False

    def __init__(self):
        self.description, self.postfixes = None, []

    def set_description_str(self, text, refresh=True):
        self.description = text

    def set_postfix_str(self, text, refresh=True):
        self.postfixes.append(text)


def _slow(params, reps, rng):
    time.sleep(0.06)   # long enough for the ticker (every 10 ms here) to fire in every round
    return Estimate.from_samples(rng.normal(1.0, 1.0, reps))


# underpowered at the first rounds (SE 1/sqrt(8) is far above what a 5% error needs): the
# engine doubles the replicates, and the bar says which round it is in
CLAIM = Claim(id="t.slow", title="E N(1, 1) = 1", statement="1", source="test", check=Exact(rel_tol=0.5),
              predict=lambda: 1.0, domain=None, default={}, simulate=_slow, reps=8)


def test_the_bar_shows_elapsed_time_and_the_current_round_inside_one_check():
    bar = _Bar()
    with ticking(bar, "t.slow", interval=0.01):
        v = CLAIM.check({}, budget="quick", seed=0)
    assert bar.description == "t.slow"
    rounds = sorted({p.split(", ", 1)[1] for p in bar.postfixes if ", round" in p})
    assert len(rounds) >= 2 and rounds[0].startswith("round 1/") and "replicates" in rounds[0], bar.postfixes
    assert all(p.split(" s", 1)[0].isdigit() for p in bar.postfixes if p)        # "<seconds> s, ..."
    assert bar.postfixes[-1] == ""                                              # cleared when the check ends
    assert v.estimate.n > 8                                                     # it did double


def test_notes_outside_a_ticking_block_are_ignored():
    bar = _Bar()
    note("nobody listens")
    with ticking(bar, "x", interval=0.01):
        time.sleep(0.05)
    assert all(", nobody listens" not in p for p in bar.postfixes)
