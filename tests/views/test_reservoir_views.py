"""The reservoir room's views without a browser: the raster, live sources and result plots."""
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from lab.reservoir import LiveSnapshot, ReservoirRoom
from views.reservoir import build_room
from views.reservoir.analysis import spectrum_plot, task_plot
from views.reservoir.live import RASTER_ROWS, LiveViews, raster_image, regime_badge
from views.reservoir.sweep import performance_plot, regime_plot


def snapshot_with(rates):
    steps, n = rates.shape
    zeros = np.zeros(steps)
    return LiveSnapshot(step=steps, times=np.arange(steps), rates=rates.astype(np.float32), exc_population=zeros,
                        inh_population=zeros, exc_neuron=zeros, inh_neuron=zeros, target_error=zeros,
                        mean_rates=rates.mean(axis=0), targets=np.full(n, 0.2), neuron=0, regime="asynchronous")


def test_raster_keeps_small_networks_and_averages_large_ones():
    small = np.random.default_rng(0).random((30, 50))
    image = raster_image(snapshot_with(small))
    assert image.dtype == np.uint8 and image.shape == (50, 30)
    assert np.abs(image / 255 - small.T).max() <= 0.5 / 255 + 1e-6    # one level per palette colour
    n = 2 * RASTER_ROWS
    rates = np.tile(np.arange(n) / n, (40, 1))                # neuron i fires at i / n, constant in time
    image = raster_image(snapshot_with(rates))
    assert image.shape == (RASTER_ROWS, 40)
    expected = (np.arange(0, n, 2) + 0.5) / n                  # the mean of each pair of neurons
    assert np.abs(image[:, 0] / 255 - expected).max() <= 0.5 / 255 + 1e-6


def test_live_views_follow_the_model():
    model = ReservoirRoom(n=60, in_degree=10)
    views = LiveViews(model)
    model.step()
    assert views.frames >= 1                                   # the first frame is never held back
    for _ in range(2):
        model.step()
    views.redraw()  # later frames may be throttled on a busy machine: draw the latest one
    image = views._raster_source.data["image"][0]
    assert image.shape == (60, 75)
    assert np.array_equal(image, np.round(model.snapshot.rates.T * 255).astype(np.uint8))
    snap = model.snapshot
    assert list(views._currents_source.data["t"]) == list(snap.times - snap.step)   # steps before now
    assert (views._time_range.start, views._time_range.end) == (-model.window, 0)
    assert sum(views._targets_source.data["top"]) == 60       # every neuron's target is counted


def test_result_plots_draw_from_model_results():
    model = ReservoirRoom(n=60, in_degree=10)
    spectrum = model.compute_spectrum()
    assert isinstance(spectrum_plot(spectrum), hv.Overlay)
    assert isinstance(spectrum_plot(None), hv.Curve)
    assert isinstance(task_plot(model.train()), hv.Curve)      # the MC_k curve
    model.task = "NARMA-10"
    assert isinstance(task_plot(model.train()), hv.Overlay)    # prediction over target
    summary = pd.DataFrame(dict(task="memory capacity", metric="MC", adaptive=[False, False, True, True],
                                balance=[0.5, 1.0, 0.5, 1.0], mean=[3.0, 9.0, 8.0, 8.5],
                                std=[0.5, 1.0, 0.2, np.nan], count=2))
    plot = performance_plot(summary)
    assert {el.label for el in plot if el.label} >= {"static", "adaptive"}
    regimes = pd.DataFrame(dict(balance=[0.5, 1.0], condition=["static", "static"], regime=["saturated", "asynchronous"]))
    assert len(regime_plot(regimes)) == 2


def test_room_builds_and_badge_names_the_regime():
    pn.extension()
    room = build_room()
    assert room.get_root() is not None
    assert "saturated" in regime_badge("saturated", 1200) and "1,200" in regime_badge("saturated", 1200)
