"""The N-to-1 AdEx model written for Brian2 (run by adex_vs_brian2.py inside its own venv).

Usage: python _adex_brian2_model.py N T_SECONDS WE_NS SEED  -> prints one JSON line.
The same model as neurodata.adex: 6500 PoissonGroup inputs with lognormal rates, two
Synapses objects, forward Euler at 0.1 ms, threshold V > V_s, reset V_r and w += b.
"""

import json
import sys
import time

import numpy as np
from brian2 import (
    Hz,
    NeuronGroup,
    PoissonGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    Network,
    defaultclock,
    ms,
    mV,
    nS,
    pA,
    pF,
    prefs,
    second,
    seed as brian_seed,
)

prefs.codegen.target = "cython"
N, T, WE, SEED = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
defaultclock.dt = 0.1 * ms
brian_seed(SEED)
rng = np.random.default_rng(SEED)
sigma = np.sqrt(0.6)
rates = rng.lognormal(np.log(4.0) - sigma**2 / 2, sigma, size=N)
n_exc = int(round(N * 0.8))

params = dict(C=104 * pF, gL=4.3 * nS, EL=-65 * mV, VT=-52 * mV, DeltaT=0.8 * mV, Vs=40 * mV, Vr=-53 * mV,
              a=-0.8 * nS, b=65 * pA, tau_w=88 * ms, Ee=0 * mV, Ei=-80 * mV, tau_g=7 * ms,
              we=WE * nS, wi=4 * WE * nS)  # fmt: skip
eqs = """
dV/dt = (-gL*(V-EL) + gL*DeltaT*exp((V-VT)/DeltaT) - ge*(V-Ee) - gi*(V-Ei) - w)/C : volt
dw/dt = (a*(V-EL) - w)/tau_w : amp
dge/dt = -ge/tau_g : siemens
dgi/dt = -gi/tau_g : siemens
"""
neuron = NeuronGroup(1, eqs, threshold="V > Vs", reset="V = Vr; w += b", method="euler", namespace=params)
neuron.V = params["EL"]
inputs = PoissonGroup(N, rates=rates * Hz)
exc = Synapses(inputs[:n_exc], neuron, on_pre="ge += we", namespace=params)
exc.connect()
inh = Synapses(inputs[n_exc:], neuron, on_pre="gi += wi", namespace=params)
inh.connect()
spikes = SpikeMonitor(neuron)
trace = StateMonitor(neuron, "V", record=0)
net = Network(neuron, inputs, exc, inh, spikes, trace)

start = time.perf_counter()
net.run(10 * ms)  # code generation and Cython compilation happen here
compile_s = time.perf_counter() - start
n_before = spikes.num_spikes
start = time.perf_counter()
net.run(T * second)
run_s = time.perf_counter() - start
print(json.dumps({"compile_s": compile_s, "run_s": run_s, "rate_Hz": (spikes.num_spikes - n_before) / T}))
