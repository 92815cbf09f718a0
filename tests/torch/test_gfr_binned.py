"""GFRBinned: the binned sweeps of one bin size, selected by stimulus and cell."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurodata import ParamError  # noqa: E402
from neurodata.torch import GFRBinned  # noqa: E402


def test_sweeps_with_their_length_and_cell(ml_data, layout):
    ds = GFRBinned(bin_size=100, data_dir=ml_data)
    assert len(ds) == 10 and ds.keys == ["current", "rate", "n_bins", "sweep_cell"]
    s = ds[4]   # 6 bins; n_bins = 3 + 4 % 4 = 3
    assert s["n_bins"].item() == 3 and s["sweep_cell"].item() == layout.cells[1]
    assert s["current"][:3].tolist() == [400.0, 401.0, 402.0] and torch.isnan(s["current"][3:]).all()
    assert torch.isnan(s["rate"][3:]).all() and s["rate"][:3].tolist() == pytest.approx([0.0, 0.01, 0.02])


def test_selection_by_stimulus_and_cell(ml_data, layout):
    noise = GFRBinned(bin_size=20, stimuli=["Noise 1", "Noise 2"], data_dir=ml_data)
    assert noise.positions.tolist() == [2, 3, 6, 7]
    one_cell = GFRBinned(bin_size=20, stimuli=["Ramp"], cells=[layout.cells[2]], data_dir=ml_data)
    assert one_cell.positions.tolist() == [5]       # sweep 5: Ramp (5 % 4 = 1), cell 5 % 3 = 2


def test_nan_to_num_transform(ml_data):
    ds = GFRBinned(bin_size=100, data_dir=ml_data, transform={"current": torch.nan_to_num, "rate": torch.nan_to_num})
    assert ds[4]["current"].tolist() == [400.0, 401.0, 402.0, 0.0, 0.0, 0.0]


def test_bad_arguments(ml_data):
    with pytest.raises(ParamError, match="'stimuli' parameter of GFRBinned must be a list of"):
        GFRBinned(stimuli="Ramp", data_dir=ml_data)
    with pytest.raises(ParamError, match="Got \\['Noise 3'\\] instead"):
        GFRBinned(stimuli=["Noise 3"], data_dir=ml_data)
    with pytest.raises(ParamError, match=r"sweep_cell = \[1\], which no sample of gfr_binned/bin_20 has"):
        GFRBinned(cells=[1], data_dir=ml_data)
    with pytest.raises(ParamError, match=r"\['bin_100', 'bin_20'\] for gfr_binned. Got 'bin_10'"):
        GFRBinned(bin_size=10, data_dir=ml_data)
