"""Wall time of the ``ei_network`` stage against a bare NEST script building and simulating the same network.

Each runs as a fresh Python process (interpreter start, imports, build, simulate, output),
one after the other, alternating, on the same parameters (params.yaml's ``ei_network`` section,
or the tiny profile with ``--tiny``). The stage additionally checks its params, labels the
spikes as xarray, validates them against the schema and writes two Zarr stores.
The bare script is plain PyNEST + numpy: the same populations, initial potentials, background
currents, stimulus, 4 x Q x Q ``nest.Connect`` calls, spike recorder and ``nest.Simulate``;
it only collects the spike arrays.

    .venv/bin/python benchmarks/ei_network_stage_vs_bare_nest.py [--tiny] [--repeat N]

Three variants: ``bare`` (the plain NEST script), ``stage`` (a process that imports only
``neurodata.ei_network.stages`` and calls the stage function), ``cli`` (``neurodata run ei_network``,
which also imports every other family's stages to find the stage). Prints each run's wall and CPU
time (user + system; less sensitive to a shared, loaded machine) and the ratios to ``bare``
(acceptance: stage / bare <= 1.2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _params(tiny: bool) -> dict:
    sys.path.insert(0, str(REPO))
    from neurodata.params import load_params, merge_profile

    import yaml

    params = load_params("ei_network", REPO / "params.yaml")
    if tiny:
        profile = yaml.safe_load((REPO / "profiles" / "tiny.yaml").read_text())
        params = merge_profile(params, profile.get("ei_network", {}))
    return params


def bare_nest(p: dict) -> None:
    """The same network in plain PyNEST (no neurodata import), spikes collected as numpy arrays."""
    import math

    import numpy as np

    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    n_e, n_i, q = p["N_E"], p["N_I"], p["n_clusters"]
    n = n_e + n_i
    prob = np.array(p["baseline_conn_prob"])

    def psp(tau_m, tau_s):
        t = math.log(tau_s / tau_m) / (1 / tau_m - 1 / tau_s)
        pre = tau_m * tau_s / (p["C_m"] * (tau_s - tau_m))
        return pre * (math.exp(-t / tau_s) - math.exp(-t / tau_m))

    a = [[psp(p["tau_E"], p["tau_syn_ex"]), psp(p["tau_E"], p["tau_syn_in"])],
         [psp(p["tau_I"], p["tau_syn_ex"]), psp(p["tau_I"], p["tau_syn_in"])]]
    js = np.zeros((2, 2))
    js[0, 0] = (p["V_th_E"] - p["E_L"]) * math.sqrt(n) / (math.sqrt(n_e * prob[0, 0]) * a[0][0])
    js[0, 1] = -p["gei"] * js[0, 0] * prob[0, 0] * n_e * a[0][0] / (prob[0, 1] * n_i * a[0][1])
    js[1, 0] = p["gie"] * (p["V_th_I"] - p["E_L"]) * math.sqrt(n) / (math.sqrt(n_e * prob[1, 0]) * a[1][0])
    js[1, 1] = -p["gii"] * js[1, 0] * prob[1, 0] * n_e * a[1][0] / (prob[1, 1] * n_i * a[1][1])
    j = p["s"] * js / math.sqrt(n)
    j_i = 1 + (p["rep"] - 1) * p["rj"]
    plus = np.array([[p["rep"], j_i], [j_i, j_i]])
    minus = (q - plus) / (q - 1)

    rng = np.random.default_rng(p["seed"])
    v_th = np.r_[np.full(n_e, p["V_th_E"]), np.full(n_i, p["V_th_I"])]
    v0 = v_th - 20.0 * rng.lognormal(0.0, 1.0, n)
    i_e = [p["I_th_E"] * (p["V_th_E"] - p["E_L"]) * p["C_m"] / p["tau_E"],
           p["I_th_I"] * (p["V_th_I"] - p["E_L"]) * p["C_m"] / p["tau_I"]]

    nest.ResetKernel()
    nest.set(local_num_threads=p["threads"], resolution=p["dt"], rng_seed=p["seed"], print_time=False)
    common = {"E_L": p["E_L"], "C_m": p["C_m"], "t_ref": p["t_ref"], "V_reset": p["V_r"],
              "tau_syn_ex": p["tau_syn_ex"], "tau_syn_in": p["tau_syn_in"]}
    pops = [nest.Create("iaf_psc_exp", n_e, {**common, "tau_m": p["tau_E"], "V_th": p["V_th_E"], "I_e": i_e[0]}),
            nest.Create("iaf_psc_exp", n_i, {**common, "tau_m": p["tau_I"], "V_th": p["V_th_I"], "I_e": i_e[1]})]
    pops[0].set(V_m=v0[:n_e].tolist())
    pops[1].set(V_m=v0[n_e:].tolist())
    size = [n_e // q, n_i // q]
    clusters = [[pops[x][k * size[x]:(k + 1) * size[x]] for k in range(q)] for x in (0, 1)]
    dt, warm = p["dt"], p["warmup"]
    times, values = [], []
    for s, e in zip(p["stim_starts"], p["stim_ends"]):
        times += [s + warm - dt, e + warm - dt]
        values += [p["stim_amp"], 0.0]
    if p["stim_clusters"] and times:
        gen = nest.Create("step_current_generator", {"amplitude_times": times, "amplitude_values": values})
        for k in p["stim_clusters"]:
            nest.Connect(gen, clusters[0][k], syn_spec={"delay": dt})
    rec = nest.Create("spike_recorder")
    nest.Connect(pops[0] + pops[1], rec)
    for post in (0, 1):
        for pre in (0, 1):
            for i in range(q):
                for k in range(q):
                    w = (plus if i == k else minus)[post, pre] * j[post, pre]
                    nest.Connect(clusters[pre][i], clusters[post][k],
                                 {"rule": "pairwise_bernoulli", "p": prob[post, pre], "allow_autapses": False,
                                  "allow_multapses": False},
                                 {"synapse_model": "static_synapse", "weight": w, "delay": p["delay"]})
    nest.Simulate(warm + p["simtime"])
    ev = rec.get("events")
    t = np.asarray(ev["times"])
    keep = t >= warm
    spikes = np.vstack([t[keep] - warm, np.asarray(ev["senders"])[keep] - 1])
    print(f"bare: {spikes.shape[1]} spikes, E rate {np.mean(spikes[1] < n_e) * spikes.shape[1] / n_e / (p['simtime'] / 1000):.3f} Hz")


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one child process [s]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny profile instead of the full default network")
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each (default 1)")
    parser.add_argument("--no-cli", action="store_true", help="skip the `neurodata run` variant")
    parser.add_argument("--bare-json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_json:
        bare_nest(json.loads(Path(args.bare_json).read_text()))
        return
    params = _params(args.tiny)
    env = {**os.environ, "PYNEST_QUIET": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        pfile = Path(tmp) / "params.yaml"
        import yaml

        pfile.write_text(yaml.safe_dump({"ei_network": params}))
        bare_json = Path(tmp) / "bare.json"
        bare_json.write_text(json.dumps(params))
        data = Path(tmp) / "data"
        stage_code = (
            "from neurodata.ei_network.stages import ei_network; from neurodata.params import load_params; "
            f"ei_network(load_params('ei_network', {str(pfile)!r}), data_dir={str(data)!r})"
        )
        commands = {
            "bare": [sys.executable, __file__, "--bare-json", str(bare_json)],
            "stage": [sys.executable, "-c", stage_code],
            "cli": [sys.executable, "-m", "neurodata", "run", "ei_network", "--params", str(pfile),
                    "--data-dir", str(data)],
        }
        if args.no_cli:
            commands.pop("cli")
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for r in range(args.repeat):
            order = list(commands) if r % 2 == 0 else list(reversed(commands))
            for name in order:
                w, c = _timed(commands[name], env)
                wall[name].append(w)
                cpu[name].append(c)
                print(f"run {r + 1}: {name:5s} wall {w:7.2f} s  cpu {c:7.2f} s", flush=True)
    size = "tiny profile" if args.tiny else f"N_E={params['N_E']}, N_I={params['N_I']}, Q={params['n_clusters']}"
    print(f"{size}, {params['warmup']:.0f} + {params['simtime']:.0f} ms, threads={params['threads']}, "
          f"median of {args.repeat}")
    for label, table in (("wall", wall), ("cpu", cpu)):
        med = {name: statistics.median(values) for name, values in table.items()}
        line = (f"{label:4s}: bare NEST {med['bare']:.2f} s  stage {med['stage']:.2f} s  "
                f"ratio stage/bare = {med['stage'] / med['bare']:.3f}")
        if "cli" in med:
            line += f"  | neurodata run {med['cli']:.2f} s  ratio cli/bare = {med['cli'] / med['bare']:.3f}"
        print(line)
    if "cli" in wall:
        print("(cli includes `neurodata run`'s import of every family's stages to find this one)")


if __name__ == "__main__":
    main()
