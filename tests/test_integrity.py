"""Damaged bytes are an error, never data: missing chunks, flipped bytes and truncated metadata
in a stage's inputs stop the stage with ArtifactCorrupt and write nothing downstream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import neurodata
from neurodata.cli import main

pytestmark = pytest.mark.slow  # uses the tiny pipeline build


def run_stage(stage: str, data: Path, checkout: Path) -> int:
    return main(["run", stage, "--data-dir", str(data), "--params", str(checkout / "params.yaml"), "--scheduler", "synchronous"])


def store_state(data: Path, artifact: str) -> str:
    return (data / f"{artifact}.zarr" / "manifest.json").read_text()


def flip_bytes(path: Path, n: int = 16) -> None:
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + n] = bytes(b ^ 0xFF for b in raw[middle : middle + n])
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("upstream", "key", "stage", "downstream"),
    [
        ("isf_simrun", "activation_times/c/0/0", "isf_ann_batches", "ann_batches"),
        ("gfr_cells", "spike_time/c/0", "gfr_binned", "gfr_binned"),
        ("braingrid_spikes", "time_step/c/0", "braingrid_bursts", "braingrid_bursts"),
    ],
)
@pytest.mark.parametrize("damage", ["missing", "flipped"])
def test_a_damaged_upstream_chunk_stops_the_stage_and_writes_nothing(
    tiny_checkout, tiny_data, capsys, upstream, key, stage, downstream, damage
):
    chunk = tiny_data / f"{upstream}.zarr" / key
    assert chunk.is_file()
    before = store_state(tiny_data, downstream)
    if damage == "missing":
        chunk.unlink()
    else:
        flip_bytes(chunk)
    assert run_stage(stage, tiny_data, tiny_checkout) == 1
    err = capsys.readouterr().err
    variable = key.split("/c/")[0]
    assert f"ArtifactCorrupt: {upstream} is damaged" in err
    assert f"{upstream}: {variable}: manifest: chunk '{key}'" in err
    assert ("is missing (the manifest lists it)" if damage == "missing" else "is damaged (its CRC-32C differs") in err
    assert store_state(tiny_data, downstream) == before  # nothing written downstream
    assert not list(tiny_data.glob(f".{downstream}.zarr.*"))  # and no temporary left behind


def test_a_missing_chunk_is_an_error_on_read_never_fill_values(tiny_data):
    (tiny_data / "isf_simrun.zarr" / "activation_times" / "c" / "0" / "0").unlink()
    sim = neurodata.open_artifact("isf_simrun", data_dir=tiny_data)  # opening is cheap and fine ...
    with pytest.raises(neurodata.ArtifactCorrupt, match=r"isf_simrun: activation_times: manifest: chunk 'activation_times/c/0/0' is missing"):
        sim["activation_times"].values  # ... reading the lost chunk is not
    assert sim["trial"].size > 0  # the rest of the store still reads


def test_flipped_bytes_are_caught_by_the_checksums_even_without_the_manifest(tiny_data):
    import zarr

    key = tiny_data / "gfr_cells.zarr" / "spike_time" / "c" / "0"
    flip_bytes(key)
    (tiny_data / "gfr_cells.zarr" / "manifest.json").unlink()  # a reader bypassing neurodata's checks
    with pytest.raises(Exception, match="(?i)checksum|zstd|corrupt|decompress"):
        zarr.open_array(str(tiny_data / "gfr_cells.zarr" / "spike_time"), mode="r")[:]  # Zstd's own checksum


def test_a_truncated_zarr_json_is_artifact_corrupt(tiny_checkout, tiny_data, capsys):
    meta = tiny_data / "isf_simrun.zarr" / "zarr.json"
    meta.write_bytes(meta.read_bytes()[:200])
    with pytest.raises(neurodata.ArtifactCorrupt, match=r"isf_simrun: \(root metadata\): manifest: chunk 'zarr.json' (is damaged|has \d+ bytes)"):
        neurodata.open_artifact("isf_simrun", data_dir=tiny_data)
    before = store_state(tiny_data, "isf_spatial_bins")
    assert run_stage("isf_spatial_bins", tiny_data, tiny_checkout) == 1
    assert "ArtifactCorrupt" in capsys.readouterr().err
    assert store_state(tiny_data, "isf_spatial_bins") == before


def test_verify_lists_every_problem_and_deep_checks_catch_same_size_damage(tiny_data):
    assert neurodata.verify_artifact("gfr_cells", data_dir=tiny_data) == []
    flip_bytes(tiny_data / "gfr_cells.zarr" / "spike_time" / "c" / "0", n=4)  # same size: only a CRC sees it
    (tiny_data / "gfr_cells.zarr" / "extra.bin").write_bytes(b"x")
    assert [p.split(": ", 2)[1] for p in neurodata.verify_artifact("gfr_cells", data_dir=tiny_data, deep=False)] == ["extra.bin"]
    problems = neurodata.verify_artifact("gfr_cells", data_dir=tiny_data)
    assert any("spike_time: manifest: chunk 'spike_time/c/0' is damaged" in p for p in problems) and len(problems) == 2
    manifest = json.loads((tiny_data / "gfr_cells.zarr" / "manifest.json").read_text())
    assert manifest["format"] == "neurodata-manifest/1" and "spike_time/c/0" in manifest["files"]
