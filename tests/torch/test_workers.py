"""Every preset through a shuffled DataLoader, after a read in the main process, with 0 or 2
workers, forked or spawned: each sample once, equal to a main-process read, and never a hang.

Why it used to hang: a threaded dask read in the main process leaves dask's default thread
pool behind; a forked worker inherits the pool object but none of its threads, so a dask read
there waits forever. The datasets now read with dask's synchronous scheduler and open the store
again in each process; the tests recreate the trap (a threaded dask computation in the parent)
before starting the workers. The DataLoader timeout turns a stuck worker into an error, and
the pytest timeout stops anything else.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

import neurodata  # noqa: E402
from neurodata.torch import ANNBatches, ArtifactDataset, BurstWindows, GFRBinned  # noqa: E402

PRESETS = {
    "ann_batches": lambda: ANNBatches(),
    "burst_windows_spatial": lambda: BurstWindows(window=10, kind="spatial", split=None),
    "gfr_binned": lambda: GFRBinned(bin_size=20),
    "catalog_entry": lambda: ArtifactDataset.from_catalog("burst_windows", params={"window": 5}, sample_dim="sample",
                                                          inputs="temporal", targets="label", where={"split": "train"}),
}
CASES = [(preset, 0, None) for preset in PRESETS] + [(preset, 2, "fork") for preset in PRESETS] + [
    # a spawned worker imports torch, xarray and zarr afresh (seconds each); the catalog entry
    # is a generic ArtifactDataset as the presets are, so three presets cover spawning
    (preset, 2, "spawn") for preset in PRESETS if preset != "catalog_entry"
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("preset", "num_workers", "start"), CASES,
                         ids=[f"{p}-{s or 'main'}" for p, _, s in CASES])
def test_shuffled_loader_after_a_main_process_read(ml_data, preset, num_workers, start):
    with neurodata.set_options(data_dir=str(ml_data)):   # resolved now: a spawned worker never sees this option
        ds = PRESETS[preset]()
    first = ds[0]
    key = ds.keys[0]
    ds.dataset[ds.fields[0].variables[0]].sum().compute(scheduler="threads")   # the trap: dask's thread pool
    loader = DataLoader(ds, batch_size=3, shuffle=True, num_workers=num_workers, multiprocessing_context=start,
                        timeout=60 if num_workers else 0, generator=torch.Generator().manual_seed(0))
    batches = list(loader)
    got = {name: torch.cat([b[name] for b in batches]).nan_to_num() for name in ds.keys}
    # which item each loaded sample is: the first key's values are unique per item
    where = {_fingerprint(ds[i][key]): i for i in range(len(ds))}
    order = [where[_fingerprint(row)] for row in got[key]]
    assert sorted(order) == list(range(len(ds))) and order != sorted(order)
    for name in ds.keys:
        expected = torch.stack([ds[i][name] for i in order]).nan_to_num()
        assert got[name].dtype == expected.dtype and torch.equal(got[name], expected)
    assert torch.equal(ds[0][key].nan_to_num(), first[key].nan_to_num())


def _fingerprint(t: torch.Tensor) -> bytes:
    return t.nan_to_num().numpy().tobytes()
