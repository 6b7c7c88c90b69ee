"""The reservoir room's views without a browser: the raster, live sources and result plots."""
import numpy as np
import pandas as pd
import panel as pn

from lab.reservoir import LiveSnapshot, ReservoirRoom
from views.reservoir.analysis import SpectrumPlot, TaskPlot, spectrum_figures, task_figures
from views.reservoir.controls import controls
from views.reservoir.live import RASTER_ROWS, LiveViews, raster_image, regime_badge
from views.reservoir.room import ReservoirRoomView, build_room
from views.reservoir.sweep import best_figures, performance_plot, regime_plot
from tests.lab import polling


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


def test_before_the_network_runs_the_plots_say_what_they_will_show():
    model = ReservoirRoom(n=60, in_degree=10)
    views = LiveViews(model)
    assert all(note.visible for note in views._notes) and not any(legend.visible for legend in views._legends)
    assert "Press Run or Step" in views._notes[1].text and "0 steps" in views.badge.object
    model.step()
    assert not any(note.visible for note in views._notes) and all(legend.visible for legend in views._legends)
    assert "25 steps" in views.badge.object
    model.reset()                                              # a new network at rest: the notes are back
    assert all(note.visible for note in views._notes)


def test_result_plots_draw_from_model_results():
    model = ReservoirRoom(n=60, in_degree=10)
    assert "—" in spectrum_figures(None, False) and "—" in task_figures(None, "NARMA-10", False)
    assert "—" in best_figures(None)
    spectrum = model.compute_spectrum()
    assert "spectral radius of W" in spectrum_figures(spectrum, False) and "—" not in spectrum_figures(spectrum, False)
    plot = SpectrumPlot()
    figure_id = plot.figure.id
    plot.update(spectrum)                                      # the same figure, new data and title
    assert plot.figure.id == figure_id and len(plot._sources["W"].data["re"]) == 60
    assert plot.figure.title.text.startswith("Eigenvalues at step 0: radius W")
    assert plot.figure.x_range.end == plot.figure.y_range.end >= 1.15
    plot.update(None)
    assert plot.figure.title.text == "Eigenvalues (none computed yet)" and len(plot._sources["W"].data["re"]) == 0
    plot = TaskPlot()
    figure_id, items = plot.figure.id, plot.figure.legend[0].items
    assert not plot.figure.legend.visible and plot.figure.title.text.startswith("Train a readout")
    result = model.train()
    plot.update(result)                                        # the MC_k curve
    assert len(plot._curve.data["y"]) == len(result.memory_curve) and len(plot._series.data["x"]) == 0
    assert [item.visible for item in items] == [True, False, False] and plot.figure.title.text.startswith("memory")
    model.task = "NARMA-10"
    result = model.train()
    plot.update(result)                                        # the same figure: prediction over target
    assert plot.figure.id == figure_id and len(plot._curve.data["x"]) == 0
    assert np.array_equal(plot._series.data["prediction"], result.prediction)
    assert [item.visible for item in items] == [False, True, True] and plot.figure.xaxis.axis_label == "test step"
    summary = pd.DataFrame(dict(task="memory capacity", metric="MC", adaptive=[False, False, True, True],
                                balance=[0.5, 1.0, 0.5, 1.0], mean=[3.0, 9.0, 8.0, 8.5],
                                std=[0.5, 1.0, 0.2, np.nan], count=2))
    plot = performance_plot(summary)
    assert {el.label for el in plot if el.label} >= {"static", "adaptive"}
    assert best_figures(summary) == "best static: MC 9 at g = 1 · best adaptive: MC 8.5 at g = 1"
    regimes = pd.DataFrame(dict(balance=[0.5, 1.0], condition=["static", "static"], regime=["saturated", "asynchronous"]))
    assert len(regime_plot(regimes)) == 2


def test_room_builds_without_building_the_network_and_badge_names_the_regime():
    pn.extension()
    room = build_room()
    assert isinstance(room, ReservoirRoomView) and isinstance(room.model, ReservoirRoom)
    assert pn.panel(room).get_root() is not None
    assert not room.model._handover.built and room.model.spectrum is None     # the first paint computes nothing
    assert "saturated" in regime_badge("saturated", 1200) and "1,200 steps" in regime_badge("saturated", 1200)


def test_controls_show_only_where_they_apply():
    model = ReservoirRoom(n=60, in_degree=10)
    panel = controls(model)
    by_label = {getattr(w, "name", ""): w for w in panel.select(pn.widgets.Widget)}
    rate, low = by_label["Target rate (0-1)"], by_label["Lowest target rate (0-1)"]
    assert model.targets == "uniform" and not rate.visible and low.visible
    model.targets = "homogeneous"
    assert rate.visible and not low.visible
    model.topology = "C. elegans"
    assert not by_label["N (neurons)"].visible and not by_label["In-degree (synapses per neuron)"].visible
    speed = by_label["Speed limit (steps/s, 0: none)"]
    assert isinstance(speed, pn.widgets.IntInput)                     # 0-100,000: a number, not a slider


def test_the_eigenvalues_tab_computes_when_shown():
    model = ReservoirRoom(n=60, in_degree=10)
    view = ReservoirRoomView(model)
    for _ in range(4):
        model.step()
    view.tabs.active = 1
    polling.wait_for(lambda: model.spectrum is not None and model.analysing == "")
    assert model.spectrum.step == 100                                  # the state shown, not step 0
    model.balance = 2.0                                                # the open tab follows the settings
    polling.wait_for(lambda: model.spectrum.outlier.real < -0.5)
