"""A small planted generator: modules of neurons that co-fluctuate only during their epochs."""
import numpy as np

# neuron modules and the epochs (seconds) in which each is driven by its own shared signal
MODULES = {"A": range(0, 6), "B": range(6, 12), "C": range(12, 18)}
EPOCHS = {"A": [(0, 200)], "B": [(0, 200)], "C": [(200, 400)]}
N_NEURONS, DURATION_S, DT = 24, 400.0, 0.5


def smooth_noise(rng, n_samples, n_series, width=4):
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    raw = rng.standard_normal((n_samples + len(kernel) - 1, n_series))
    out = np.stack([np.convolve(raw[:, k], kernel, mode="valid") for k in range(n_series)], 1)
    return out / out.std(axis=0)


def planted_worms(n_worms=4, seed=0, missing_per_worm=2, coupling=1.5):
    """(traces, neuron names, dt): list of (T, N) arrays with NaN columns for unrecorded neurons."""
    rng = np.random.default_rng(seed)
    n_samples = int(DURATION_S / DT)
    time = np.arange(n_samples) * DT
    traces = []
    for _ in range(n_worms):
        x = smooth_noise(rng, n_samples, N_NEURONS)
        for name, members in MODULES.items():
            drive = smooth_noise(rng, n_samples, 1)[:, 0]
            on = np.zeros(n_samples)
            for start, end in EPOCHS[name]:
                on[(time >= start) & (time < end)] = 1.0
            x[:, list(members)] += coupling * on[:, None] * drive[:, None]
        missing = rng.choice(N_NEURONS, size=missing_per_worm, replace=False)
        x[:, missing] = np.nan
        traces.append(x.astype(np.float32))
    names = [f"N{k:02d}" for k in range(N_NEURONS)]
    return traces, names, DT


def module_labels():
    labels = np.full(N_NEURONS, -1)
    for k, members in enumerate(MODULES.values()):
        labels[list(members)] = k
    return labels
