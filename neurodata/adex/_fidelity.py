"""Built AdEx artifacts beside the seed's results and the model's expectation: tables, metrics, report.

Three questions, kept apart:

1. Does the w_e sweep built with the seed's random stream equal the seed's results, row by
   row? (:func:`seed_table_agreement`, :func:`rate_match_agreement`)
2. Is the model right? Judged by its expectation over many seeds, with the spec's bands
   (rate within max(10 %, 0.5 Hz), median Vm within 0.5 mV): :func:`expectation_agreement`.
3. Why does one block of 10 seeds (the seed's table) sit where it does? Its drawn input
   rates, through the slopes of :mod:`._expectation`.

The ``*_agreement`` functions return flat dicts of numbers, meant as DVC metrics of the stage
that builds the artifact.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from ._expectation import block_prediction, expectation_table, expected_rate_sums
from ._model import input_rate_sums
from ._reference import (
    MODEL_EXPECTATION,
    MODEL_EXPECTATION_RESOLUTION_HZ,
    SEED_CONFIG,
    SEED_RATE_MATCH,
    SEED_WE_SWEEP,
    seed_per_seed_table,
)

__all__ = [
    "compare_expectation",
    "compare_per_seed",
    "compare_rate_match",
    "compare_we_sweep",
    "expectation_agreement",
    "fidelity_lines",
    "rate_match_agreement",
    "seed_table_agreement",
]

RATE_REL_TOL, RATE_ABS_TOL, VM_ABS_TOL = 0.10, 0.5, 0.5
WE_REL_TOL_LARGE_N, WE_REL_TOL_SMALL_N, SMALL_N = 0.10, 0.25, 100
#: A per-seed row equals the seed's when the rates are equal and the median Vm within this [mV].
VM_MATCH_TOL = 1e-9
#: Fewest seeds with which an expectation is judged.
MIN_SEEDS = 100


def _we_pS(ds: xr.Dataset) -> np.ndarray:
    return np.round(ds["we"].values * 1000, 6)


def _rate_tolerance(rate: pd.Series | np.ndarray) -> np.ndarray:
    return np.maximum(RATE_REL_TOL * np.asarray(rate), RATE_ABS_TOL)


def _has_seed_config(ds: xr.Dataset) -> bool:
    return (
        int(ds.attrs.get("N", -1)) == SEED_CONFIG["N"]
        and float(ds.attrs.get("T_s", -1)) == SEED_CONFIG["T_s"]
        and float(ds.attrs.get("dt_ms", SEED_CONFIG["dt_ms"])) == SEED_CONFIG["dt_ms"]
    )


def _has_seed_rate_match_config(match: xr.Dataset) -> bool:
    """T, target and seeds of the seed's root finding (seeds read from the provenance attr)."""
    seeds = json.loads(match.attrs.get("seeds", "null"))
    seeds = seeds.get("seeds") if isinstance(seeds, dict) else seeds
    return (
        float(match.attrs.get("T_s", -1)) == SEED_CONFIG["T_s"]
        and float(match.attrs.get("dt_ms", SEED_CONFIG["dt_ms"])) == SEED_CONFIG["dt_ms"]
        and float(match.attrs.get("target_rate_Hz", -1)) == 4.0
        and seeds in (None, SEED_CONFIG["seeds"])
    )


def compare_per_seed(sweep: xr.Dataset) -> pd.DataFrame:
    """Every (w_e, seed) of *sweep* that the seed also ran, beside the seed's result.

    Empty unless *sweep* has the seed's N, T and dt. Columns: ``we_pS``, ``seed``, the seed's
    ``median_vm_mV`` and ``output_rate_Hz``, ours ``median_vm`` and ``output_rate``,
    ``rate_diff`` [Hz], ``vm_diff`` [mV] and ``match`` (rates equal, Vm within 1e-9 mV).

    Parameters
    ----------
    sweep : xarray.Dataset
        The ``adex_we_sweep`` artifact (or a Dataset of its shape).
    """
    ours = pd.DataFrame(
        {
            "we_pS": np.repeat(_we_pS(sweep), sweep.sizes["seed"]),
            "seed": np.tile(sweep["seed"].values, sweep.sizes["we"]),
            "median_vm": sweep["median_vm"].transpose("we", "seed").values.ravel(),
            "output_rate": sweep["output_rate"].transpose("we", "seed").values.ravel(),
        }
    )
    if not _has_seed_config(sweep):
        ours = ours.iloc[:0]
    table = seed_per_seed_table().merge(ours, on=["we_pS", "seed"])
    table["rate_diff"] = table["output_rate"] - table["output_rate_Hz"]
    table["vm_diff"] = table["median_vm"] - table["median_vm_mV"]
    table["match"] = (table["rate_diff"] == 0) & (table["vm_diff"].abs() <= VM_MATCH_TOL)
    return table


def seed_table_agreement(sweep: xr.Dataset) -> dict[str, float]:
    """Metric of stage ``adex_we_sweep``: agreement with the seed's 180 per-seed results.

    Parameters
    ----------
    sweep : xarray.Dataset
        The ``adex_we_sweep`` artifact (or a Dataset of its shape).

    Returns
    -------
    dict
        ``rows_compared`` (rows of *sweep* the seed also ran, 0 unless N, T and dt are the
        seed's), ``rows_matching`` (rate equal, median Vm within 1e-9 mV), ``seed_rows``
        (180), ``max_abs_rate_diff_Hz`` and ``max_abs_median_vm_diff_mV`` (NaN if nothing
        was compared).
    """
    table = compare_per_seed(sweep)
    empty = table.empty
    return {
        "rows_compared": len(table),
        "rows_matching": int(table["match"].sum()),
        "seed_rows": len(seed_per_seed_table()),
        "max_abs_rate_diff_Hz": float("nan") if empty else float(table["rate_diff"].abs().max()),
        "max_abs_median_vm_diff_mV": float("nan") if empty else float(table["vm_diff"].abs().max()),
    }


def compare_we_sweep(sweep: xr.Dataset) -> pd.DataFrame:
    """Seed-mean median Vm and rate per we beside the seed's table, with the spec's tolerances.

    Rate: within 10 % or 0.5 Hz of the seed (the larger); median Vm within 0.5 mV.
    Only the we values present in both are compared, and none unless N, T and dt are the seed's.

    Parameters
    ----------
    sweep : xarray.Dataset
        The ``adex_we_sweep`` artifact (or a Dataset of its shape).
    """
    ours = pd.DataFrame(
        {
            "we_pS": _we_pS(sweep),
            "median_vm_ours": sweep["median_vm"].mean("seed").values,
            "rate_ours": sweep["output_rate"].mean("seed").values,
        }
    )
    if not _has_seed_config(sweep):
        ours = ours.iloc[:0]
    table = SEED_WE_SWEEP.merge(ours, on="we_pS")
    table["rate_ok"] = (table["rate_ours"] - table["output_rate_Hz"]).abs() <= _rate_tolerance(table["output_rate_Hz"])
    table["vm_ok"] = (table["median_vm_ours"] - table["median_vm_mV"]).abs() <= VM_ABS_TOL
    return table


def compare_rate_match(match: xr.Dataset) -> pd.DataFrame:
    """we needed per N beside the seed's: within 10 % for N >= 100 and 25 % below (``we_ok``),
    and whether it equals the root the seed printed to every printed digit (``digits_match``).

    Empty unless T, dt, the target rate and the seeds (if recorded) are the seed's.

    Parameters
    ----------
    match : xarray.Dataset
        The ``adex_rate_match`` artifact (or a Dataset of its shape).
    """
    ours = pd.DataFrame(
        {
            "N": match["N"].values,
            "we_ours": match["we"].values,
            "rate_ours": match["rate"].values,
            "factor_ours": match["factor"].values,
            "iterations_ours": match["iterations"].values,
        }
    )
    if not _has_seed_rate_match_config(match):
        ours = ours.iloc[:0]
    table = SEED_RATE_MATCH.merge(ours, on="N")
    tol = np.where(table["N"] >= SMALL_N, WE_REL_TOL_LARGE_N, WE_REL_TOL_SMALL_N)
    table["rel_diff"] = (table["we_ours"] - table["we_nS"]) / table["we_nS"]
    table["we_ok"] = table["rel_diff"].abs() <= tol
    table["printed_diff"] = table["we_ours"] - table["we_printed_nS"]
    table["digits_match"] = table["printed_diff"].abs() <= table["printed_resolution_nS"]
    return table


def rate_match_agreement(match: xr.Dataset) -> dict[str, float]:
    """Metric of stage ``adex_rate_match``: agreement with the seed's roots per N.

    Parameters
    ----------
    match : xarray.Dataset
        The ``adex_rate_match`` artifact (or a Dataset of its shape).

    Returns
    -------
    dict
        ``rows_compared``; ``rows_digits_matching`` (root equal to the seed's printed root in
        every printed digit); ``rows_iterations_matching``; ``rows_within_tolerance`` (10 %,
        25 % below N = 100); ``max_abs_rel_we_diff`` against the seed's printed roots.
    """
    table = compare_rate_match(match)
    rel = (table["printed_diff"] / table["we_printed_nS"]).abs()
    return {
        "rows_compared": len(table),
        "rows_digits_matching": int(table["digits_match"].sum()),
        "rows_iterations_matching": int((table["iterations_ours"] == table["iterations"]).sum()),
        "rows_within_tolerance": int(table["we_ok"].sum()),
        "max_abs_rel_we_diff": float(rel.max()) if len(table) else float("nan"),
    }


def _seed_block_sums() -> tuple[np.ndarray, np.ndarray]:
    """Summed input rates the seed's simulations drew (Julia stream, seeds 0..9, N = 6500)."""
    sums = np.array([input_rate_sums(SEED_CONFIG["N"], seed, rng="julia") for seed in SEED_CONFIG["seeds"]])
    return sums[:, 0], sums[:, 1]


def compare_expectation(expectation: xr.Dataset) -> pd.DataFrame:
    """The model's expectation (many seeds) beside the reference expectation and the seed's table.

    Columns: those of :func:`~._expectation.expectation_table`; ``rate_expected`` (reference
    expectation, NaN where there is none or N, T differ from the seed's), ``rate_diff`` =
    mean - expected, ``rate_band`` (the spec's band), ``z`` (diff over the combined standard
    error of the mean and the reference's rounding), ``rate_ok``; the seed's table
    (``seed_rate``, ``seed_vm``), ``seed_block_predicted`` (the rate expected of seeds 0..9
    given the input rates they drew) and ``vm_ok`` (median Vm within 0.5 mV of the table).
    ``judged`` is False below 100 seeds and where there is no reference.

    Parameters
    ----------
    expectation : xarray.Dataset
        The ``adex_expectation`` artifact (or a Dataset of its shape).
    """
    table = expectation_table(expectation)
    seed_config = _has_seed_config(expectation)
    reference = MODEL_EXPECTATION.rename(columns={"rate_Hz": "rate_expected"})
    seed = SEED_WE_SWEEP.rename(columns={"output_rate_Hz": "seed_rate", "median_vm_mV": "seed_vm"})
    table = table.merge(reference, on="we_pS", how="left").merge(seed, on="we_pS", how="left")
    if not seed_config:
        table[["rate_expected", "seed_rate", "seed_vm"]] = np.nan
    table["rate_diff"] = table["rate_mean"] - table["rate_expected"]
    table["rate_band"] = _rate_tolerance(table["rate_expected"])
    table["z"] = table["rate_diff"] / np.hypot(table["rate_sem"], MODEL_EXPECTATION_RESOLUTION_HZ)
    table["rate_ok"] = table["rate_diff"].abs() <= table["rate_band"]
    table["vm_ok"] = (table["vm_mean"] - table["seed_vm"]).abs() <= VM_ABS_TOL
    table["judged"] = (table["n_seeds"] >= MIN_SEEDS) & table["rate_expected"].notna()
    table["seed_block_predicted"] = np.nan
    if seed_config:
        exc, inh = _seed_block_sums()
        table["seed_block_predicted"] = block_prediction(table, exc, inh, SEED_CONFIG["N"])
    return table


def _key(we_pS: float) -> str:
    return f"we{we_pS:g}pS".replace(".", "p")


def expectation_agreement(expectation: xr.Dataset) -> dict[str, float]:
    """Metric of stage ``adex_expectation``: the model's expectation per w_e against the reference.

    Parameters
    ----------
    expectation : xarray.Dataset
        The ``adex_expectation`` artifact (or a Dataset of its shape).

    Returns
    -------
    dict
        ``n_seeds``, ``rows_judged`` and ``rows_ok`` (rate within the spec's band of the
        reference expectation and median Vm within 0.5 mV of the seed's table, 100+ seeds),
        and per w_e (keys ``we12pS_...``): ``rate_mean_Hz``, ``rate_sem_Hz``,
        ``rate_adjusted_Hz``, ``rate_adjusted_sem_Hz``, ``rate_expected_Hz``, ``rate_diff_Hz``,
        ``z``, ``vm_mean_mV``, ``seed_table_rate_Hz``, ``seed_block_predicted_Hz``.
    """
    table = compare_expectation(expectation)
    judged = table[table["judged"]]
    metrics: dict[str, float] = {
        "n_seeds": int(expectation.sizes["seed"]),
        "rows_judged": len(judged),
        "rows_ok": int((judged["rate_ok"] & judged["vm_ok"]).sum()),
    }
    columns = {
        "rate_mean_Hz": "rate_mean",
        "rate_sem_Hz": "rate_sem",
        "rate_adjusted_Hz": "rate_adjusted",
        "rate_adjusted_sem_Hz": "rate_adjusted_sem",
        "rate_expected_Hz": "rate_expected",
        "rate_diff_Hz": "rate_diff",
        "z": "z",
        "vm_mean_mV": "vm_mean",
        "seed_table_rate_Hz": "seed_rate",
        "seed_block_predicted_Hz": "seed_block_predicted",
    }
    for row in table.itertuples():
        for name, column in columns.items():
            metrics[f"{_key(row.we_pS)}_{name}"] = float(getattr(row, column))
    return metrics


def _stream(ds: xr.Dataset) -> str:
    return ds.attrs.get("rng") or json.loads(ds.attrs.get("stage_params", "{}")).get("rng", "numpy")


def _sweep_lines(sweep: xr.Dataset) -> list[str]:
    agreement = seed_table_agreement(sweep)
    lines = [f"adex_we_sweep (rng={_stream(sweep)}) vs the seed's per-seed results"]
    if agreement["rows_compared"]:
        lines.append(
            f"  {agreement['rows_matching']} of {agreement['rows_compared']} rows equal (of the seed's "
            f"{agreement['seed_rows']}; rate exactly, median Vm within {VM_MATCH_TOL:g} mV); "
            f"max |d rate| {agreement['max_abs_rate_diff_Hz']:.3g} Hz, max |d Vm| {agreement['max_abs_median_vm_diff_mV']:.3g} mV"
        )
    else:
        lines.append("  no row to compare: the seed ran N = 6500, T = 10 s, dt = 0.1 ms")
    table = compare_we_sweep(sweep)
    if table.empty:
        return lines
    lines.append("mean over seeds vs the seed's table (rate tol max(10 %, 0.5 Hz), Vm tol 0.5 mV)")
    lines.append(f"{'we pS':>7} {'Vm seed':>9} {'Vm ours':>9} {'rate seed':>10} {'rate ours':>10}  ok")
    for row in table.itertuples():
        ok = "PASS" if row.rate_ok and row.vm_ok else "FAIL"
        lines.append(
            f"{row.we_pS:7.1f} {row.median_vm_mV:9.3f} {row.median_vm_ours:9.3f} "
            f"{row.output_rate_Hz:10.2f} {row.rate_ours:10.2f}  {ok}"
        )
    return lines


def _rate_match_lines(match: xr.Dataset) -> list[str]:
    table = compare_rate_match(match)
    lines = [f"adex_rate_match (rng={_stream(match)}) vs the seed (we for the target rate; tol 10 % for N >= 100, 25 % below;"]
    if table.empty:
        return [lines[0].split(" (")[0] + ": no row to compare: the seed ran T = 10 s, seeds 0-9, target 4 Hz"]
    lines.append("digits: equal to the root the seed printed, in every printed digit)")
    lines.append(f"{'N':>5} {'we seed nS':>14} {'we ours nS':>14} {'rel diff':>9} {'rate':>6} {'iter seed/ours':>14}  digits  ok")
    for row in table.itertuples():
        ok = "PASS" if row.we_ok else "FAIL"
        digits = "equal" if row.digits_match else "differ"
        lines.append(
            f"{row.N:5d} {row.we_printed_nS:14.11f} {row.we_ours:14.11f} {row.printed_diff / row.we_printed_nS:+9.1e} {row.rate_ours:6.2f} "
            f"{row.iterations:>7d}/{row.iterations_ours:<6d}  {digits:6}  {ok}"
        )
    return lines


def _expectation_lines(expectation: xr.Dataset) -> list[str]:
    table = compare_expectation(expectation)
    n = expectation.sizes["seed"]
    lines = [
        f"adex_expectation (rng={_stream(expectation)}, {n} seeds): the model judged by its expectation",
        "(reference: the model's expectation; rate tol max(10 %, 0.5 Hz) of it, Vm tol 0.5 mV of the seed's table)",
        f"{'we pS':>7} {'mean ± sem Hz':>16} {'adjusted Hz':>16} {'expected':>9} {'diff':>7} {'z':>5} "
        f"{'Vm mean':>9} {'Vm seed':>9}  ok",
    ]
    for row in table.itertuples():
        if np.isnan(row.rate_expected):
            ok = "no reference (known at N = 6500, T = 10 s)"
        elif row.n_seeds < MIN_SEEDS:
            ok = f"not judged (< {MIN_SEEDS} seeds)"
        else:
            ok = "PASS" if row.rate_ok and row.vm_ok else "FAIL"
        lines.append(
            f"{row.we_pS:7.1f} {row.rate_mean:8.3f} ± {row.rate_sem:5.3f} {row.rate_adjusted:8.3f} ± {row.rate_adjusted_sem:5.3f} "
            f"{row.rate_expected:9.2f} {row.rate_diff:+7.3f} {row.z:+5.1f} {row.vm_mean:9.3f} {row.seed_vm:9.3f}  {ok}"
        )
    if table["seed_block_predicted"].notna().any():
        exc, inh = _seed_block_sums()
        expected_exc, expected_inh = expected_rate_sums(SEED_CONFIG["N"])
        lines.append(
            f"The seed's table is one block, seeds 0-9, which drew summed input rates {np.mean(exc) / expected_exc - 1:+.2%} "
            f"(excitatory) and {np.mean(inh) / expected_inh - 1:+.2%} (inhibitory) off their expectations;"
        )
        lines.append("given those draws the model expects of that block:")
        lines.append(f"{'we pS':>7} {'expectation':>12} {'block predicted':>16} {'seed table':>11}")
        for row in table.itertuples():
            lines.append(f"{row.we_pS:7.1f} {row.rate_adjusted:12.3f} {row.seed_block_predicted:16.3f} {row.seed_rate:11.2f}")
    return lines


def fidelity_lines(sweep: xr.Dataset | None, match: xr.Dataset | None, expectation: xr.Dataset | None) -> tuple[list[str], int]:
    """The report's lines for the three AdEx artifacts (None: not built), and its failed rows."""
    lines: list[str] = []
    failed = 0
    for name, ds, render in (("adex_we_sweep", sweep, _sweep_lines), ("adex_rate_match", match, _rate_match_lines),
                             ("adex_expectation", expectation, _expectation_lines)):
        section = render(ds) if ds is not None else [f"{name}: not built (neurodata run {name})"]
        failed += sum(line.rstrip().endswith("FAIL") for line in section)
        lines.extend([*section, ""])
    return lines[:-1], failed
