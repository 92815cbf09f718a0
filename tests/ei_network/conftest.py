"""Fixtures of the ei_network tests."""

import pytest


@pytest.fixture
def stimulus_effect():
    """(E rate of stimulated clusters in the windows, their rate outside, other clusters in the windows) [Hz]."""

    def effect(rates):
        e = rates["rate"].sel(population="E")
        stim = rates["stimulated"].values
        during = float(e.sel(epoch="stimulus")[stim].mean())
        baseline = float(e.sel(epoch="baseline")[stim].mean())
        others = float(e.sel(epoch="stimulus")[~stim].mean())
        return during, baseline, others

    return effect
