"""The random streams of the gfr family: one child path of :func:`neurodata.seeds.rng` per purpose.

Every stream is keyed by what it draws for (a sweep, a cell's fit), never by the order in
which cells are simulated or by the dask task that simulates them, so a cell's results do
not depend on its block. The first index tells the purposes apart, so two stages seeded alike
never draw the same numbers:

* ``rng(seed)``: the population of ``gfr_cells`` (:func:`make_population`);
* ``rng(noise_seed)``: the phases of one pink-noise waveform (:func:`pink_noise`);
* ``rng(seed, SWEEP, specimen_id, stimulus code, repeat)``: V_T drift and intrinsic noise of
  one sweep (:func:`record_cells`);
* ``rng(seed, FIT, specimen_id, ACTIVATION_INIT, activation_bin_size)``: the coefficient
  initialisation of a cell's activation fits;
* ``rng(seed, FIT, specimen_id, GROUP_ORDER, bin_size, activation_bin_size)``: the order of a
  cell's training groups for one key.
"""

from __future__ import annotations

__all__ = ["ACTIVATION_INIT", "FIT", "GROUP_ORDER", "SWEEP"]

SWEEP = 0
FIT = 1
ACTIVATION_INIT = 0
GROUP_ORDER = 1
