"""Walks a real user takes through the dynamic-connectome room, in Chromium.

Every journey runs under the page guard (no console or page error, no request to another host)
and checks what it shows: each visible plot has a size and is inked (``assert_drawn``), and the
figures on the page match the model's state, read from the room's own export
(``connectome_settings.json``: the settings that produced the results and their sizes).
Small simulated worms keep each build to a few seconds; the URL sets them, as a copied link would.
"""
from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from benchmarks.browser import PageGuard, assert_drawn
from engines.worms import Recording, save_plain_npz
from tests.browser.conftest import served_lab
from tests.lab.connectome_files import NEURONS, write_flavell

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
T = 120_000
SMALL = "n_worms=2&duration_s=120.0&min_worm_fraction=1.0&rank=3&max_iter=30&n_shuffles=50"
TABS = ("Tensor", "Rank selection", "Components", "Communities", "Enrichment", "Export")


# ---- what a user does ---------------------------------------------------------------------------
def open_room(page, base: str, query: str = SMALL) -> None:
    page.goto(f"{base}/lab?room=connectome&{query}", wait_until="domcontentloaded", timeout=T)
    page.get_by_role("button", name="Build tensor", exact=True).wait_for(timeout=T)


def tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=re.compile(f"^{name}$")).click(timeout=T)


def field(page, label: str):
    return page.locator(".connectome-controls .bk-input-group", has_text=label).first


def type_number(page, label: str, value) -> None:
    box = field(page, label).locator("input")
    box.fill(str(value))
    box.press("Enter")


def press(page, label: str, done: str, shows: str | None = None) -> None:
    """Press a button and wait for the stage line to say ``done`` (a regular expression) and,
    when the last result ended the same way, for the key figures to show ``shows``."""
    page.get_by_role("button", name=label, exact=True).click(timeout=T)
    page.locator(".connectome-stage", has_text=re.compile(done)).wait_for(timeout=T)
    if shows is not None:
        page.locator(".connectome-metrics", has_text=shows).wait_for(timeout=T)
    page.locator(".task-status", has_text=re.compile("finished|failed|stopped")).wait_for(timeout=T)


def text(page, css: str):
    """The text of a Markdown pane (its words live in a div of the pane's shadow root)."""
    return page.locator(f"{css} div >> visible=true").first


def metrics(page) -> str:
    return text(page, ".connectome-metrics").inner_text()


def exported(page, tmp_path, name: str = "export.zip") -> tuple[zipfile.ZipFile, dict]:
    tab(page, "Export")
    with page.expect_download(timeout=T) as download:
        page.locator(".connectome-download").get_by_role("button").click(timeout=T)
    path = tmp_path / name
    download.value.save_as(path)
    archive = zipfile.ZipFile(path)
    return archive, json.loads(archive.read("connectome_settings.json"))


def to_top(page) -> None:
    """Scroll every scrolled area back to its top (for screenshots of the whole room)."""
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop > 0) e.scrollTop = 0 })")
    page.wait_for_timeout(300)


def notice(page, text: str):
    return page.locator(".notyf__message", has_text=text).first


# ---- what a user sees ---------------------------------------------------------------------------
def plots_drawn(page, css: str = ".connectome-plot", at_least: int = 1) -> int:
    """Every plot on show in the active tab has a size and ink; returns how many there were."""
    plots = page.locator(f".connectome-tabs {css} >> visible=true")
    for k in range(at_least):                          # the tab's plots may arrive one by one
        plots.nth(k).locator("canvas").first.wait_for(timeout=T)
    page.wait_for_timeout(500)  # let the last frame land
    count = plots.count()
    for k in range(count):
        plots.nth(k).scroll_into_view_if_needed()
        assert_drawn(plots.nth(k), min_ink=0.02, what=f"plot {k} ({css})")
    return count


# Where a neuron's point is drawn in the community graph, in page pixels (Bokeh's own scales).
NEURON_AT = """(i) => {
  for (const view of Bokeh.index.all_views()) {
    const source = view.model.type === "GlyphRenderer" ? view.model.data_source : null
    if (!source || view.model.glyph.type !== "Scatter" || !source.data.x || !source.data.neuron) continue
    const frame = view.parent.frame, box = view.parent.canvas_view.el.getBoundingClientRect()
    return {neuron: source.data.neuron[i], x: box.left + frame.x_scale.compute(source.data.x[i]),
            y: box.top + frame.y_scale.compute(source.data.y[i])}
  }
  return null
}"""


def click_neuron(page, index: int) -> str:
    """Click the ``index``-th neuron's point in the community graph; returns its name."""
    where = page.evaluate(NEURON_AT, index)
    assert where is not None, "no neuron points in the community graph"
    page.mouse.click(where["x"], where["y"])
    return where["neuron"]


def not_clipped(locator) -> bool:
    return locator.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1")


def metrics_match(page, document: dict) -> None:
    """The key figures on the page are those of the exported results."""
    results, settings = document["results"], document["settings"]
    shown = metrics(page)
    window_s, step_s = settings["tensor"]["window_s"], settings["tensor"]["step_s"]
    assert f"Windows: {results['windows']} × {window_s:g} s every {step_s:g} s" in shown, shown
    assert f"Worms: {results['worms']}" in shown and f"{results['pairs']:,} ({results['neurons']} neurons)" in shown
    assert (f"NTF: rank {results['rank']}, relative error {results['relative_error']:.3f} after "
            f"{results['n_iter']} sweeps") in shown, shown
    recommended = results["recommended_rank"]
    assert f"Recommended rank: {recommended if recommended is not None else '—'}" in shown, shown


# ---- journeys -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_tab_before_and_after_results_in_two_orders(page, lab_url, screenshots, tmp_path):
    open_room(page, lab_url)
    # no data folder here: simulated and upload only, and the room says how paths are switched on
    options = field(page, "Recordings").locator("option").all_inner_texts()
    assert options == ["simulated", "upload"]
    assert "NEURAL_LAB_DATA" in text(page, ".connectome-paths-off").inner_text()
    assert metrics(page).count("—") == 7
    for name in TABS:                                  # empty states: whole sentences, never clipped
        tab(page, name)
        empty = text(page, ".connectome-tabs .connectome-empty")
        empty.wait_for(timeout=T)
        assert empty.inner_text().endswith(".") and not_clipped(empty), empty.inner_text()
    tab(page, "Tensor")
    assert text(page, ".connectome-empty").inner_text() == (
        "No tensor yet: choose the recordings and press Build tensor.")

    press(page, "Build tensor", "enrichment scores")
    plots_drawn(page, at_least=2)
    to_top(page)
    page.screenshot(path=str(screenshots / "connectome-tensor.png"))
    for name in ("Communities", "Tensor", "Enrichment", "Components", "Export", "Components", "Communities"):
        tab(page, name)
        if name == "Tensor":
            plots_drawn(page, at_least=2)
        elif name == "Components":
            page.locator(".component-card").wait_for(timeout=T)
            plots_drawn(page, at_least=3)
        elif name == "Communities":
            plots_drawn(page, ".community-graph")
            scene = page.locator(".community-scene canvas").first
            scene.wait_for(timeout=T)
            scene.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)
            assert_drawn(scene, min_ink=0.01, what="3D community scene")
        elif name == "Enrichment":
            table = page.locator(".enrichment-table").first
            table.wait_for(timeout=T)
            right = table.bounding_box()["x"] + table.bounding_box()["width"]
            for column in ("p", "q"):                 # p and q are inside the table, not cut off
                header = page.locator(f'.enrichment-table .tabulator-col[tabulator-field="{column}"]').first
                assert header.is_visible() and header.bounding_box()["x"] + header.bounding_box()["width"] <= right + 1
    archive, document = exported(page, tmp_path)
    metrics_match(page, document)
    assert document["settings"]["factorisation"]["rank"] == 3 and document["results"]["windows"] == 11
    enrichment = pd.read_csv(io.BytesIO(archive.read("connectome_enrichment.csv")))
    tab(page, "Enrichment")
    assert page.locator(".enrichment-table").first.get_by_text("signal propagation").first.is_visible()
    assert set(enrichment.layer) == {"chemical", "gap junction", "signal propagation"}
    tab(page, "Components")
    page.locator(".component-card").wait_for(timeout=T)
    assert page.locator(".component-overview .tabulator-row").count() == 3
    to_top(page)
    page.screenshot(path=str(screenshots / "connectome-components.png"))
    tab(page, "Communities")                           # a click on a neuron selects it
    to_top(page)
    partitions = pd.read_csv(io.BytesIO(archive.read("connectome_partitions.csv"))).set_index("neuron")
    for index in (5, 12):
        neuron = click_neuron(page, index)
        selection = page.locator(".community-selection div", has_text=f"{neuron} · community").first
        selection.wait_for(timeout=T)
        community = int(partitions.loc[neuron, "component_0/leiden"])
        assert f"{neuron} · community {community} of component 0" in selection.inner_text()
        assert "Strongest ties in this component" in selection.inner_text()
        assert "Synaptic partners (Cook 2019" in selection.inner_text()
    page.locator(".community-scene").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshots / "connectome-communities.png"))


@pytest.mark.slow
def test_build_sweep_recommend_refit_and_export_in_odd_orders(page, lab_url, screenshots, tmp_path):
    # the user's own rank first (5); the sweep can only recommend 1 to 4
    open_room(page, lab_url, SMALL.replace("rank=3", "rank=5") + "&factorise_after_build=false&sweep_from=1&sweep_to=4")
    press(page, "Build tensor", "tensor built")
    tab(page, "Rank selection")                        # the sweep runs while its tab is on show
    press(page, "Sweep ranks", "rank sweep done")
    assert plots_drawn(page, ".connectome-rank-plot") == 3
    to_top(page)
    page.screenshot(path=str(screenshots / "connectome-rank-selection.png"))
    recommended = int(re.search(r"rank (\d+) recommended", text(page, ".connectome-stage").inner_text()).group(1))
    assert f"Recommended rank: {recommended}" in metrics(page) and "NTF: —" in metrics(page)
    for size in ({"width": 1000, "height": 760}, {"width": 1400, "height": 900}):   # and after a resize
        page.set_viewport_size(size)
        page.wait_for_timeout(1000)
        assert plots_drawn(page, ".connectome-rank-plot") == 3

    press(page, "Factorise", "done: 5 components with communities")
    _, document = exported(page, tmp_path, "first.zip")
    assert document["settings"]["factorisation"]["rank"] == document["results"]["rank"] == 5
    tab(page, "Tensor")
    press(page, "Use recommended rank and refit", f"done: {recommended} components? with communities")
    assert field(page, "Rank (components)").locator(".bk-slider-value").inner_text() == str(recommended)
    plots_drawn(page, at_least=2)
    archive, document = exported(page, tmp_path, "recommended.zip")
    metrics_match(page, document)
    assert document["settings"]["factorisation"]["rank"] == recommended == document["results"]["rank"]
    assert document["settings"]["rank sweep"]["sweep_to"] == 4 and document["results"]["recommended_rank"] == recommended
    temporal = pd.read_csv(io.BytesIO(archive.read("connectome_temporal.csv")))
    assert temporal.shape[1] == recommended + 1        # window_start_s and one column per component


@pytest.mark.slow
def test_back_and_forward_restore_the_settings_and_the_rooms(page, lab_url):
    open_room(page, lab_url)
    type_number(page, "Window (s)", 30)
    expect(page).to_have_url(re.compile("window_s=30"), timeout=T)
    page.wait_for_timeout(1200)                        # a separate step in the history
    field(page, "Affinity").locator("select").select_option("kernel")
    expect(page).to_have_url(re.compile("affinity=kernel"), timeout=T)
    page.wait_for_timeout(1200)
    page.go_back()
    expect(page).to_have_url(re.compile(r"^(?!.*affinity=)"), timeout=T)
    expect(field(page, "Affinity").locator("select")).to_have_value("correlation", timeout=T)
    page.go_back()
    expect(page).to_have_url(re.compile(r"^(?!.*window_s=)"), timeout=T)
    expect(field(page, "Window (s)").locator("input")).to_have_value("20", timeout=T)
    page.go_forward()
    expect(page).to_have_url(re.compile("window_s=30"), timeout=T)
    expect(field(page, "Window (s)").locator("input")).to_have_value("30", timeout=T)
    press(page, "Build tensor", "enrichment scores")   # the model took the restored value too
    assert "× 30 s every 10 s" in metrics(page) and "affinity: correlation" in text(page, ".connectome-summary").inner_text()
    page.get_by_role("button", name="Home", exact=True).click()
    expect(page).to_have_url(re.compile(r"^(?!.*room=connectome)"), timeout=T)
    page.go_back()                                     # back into the room, its results still there
    expect(page).to_have_url(re.compile("room=connectome.*window_s=30"), timeout=T)
    page.locator(".connectome-metrics", has_text="× 30 s every 10 s").wait_for(timeout=T)


def upload(page, files: list) -> None:
    page.locator(".connectome-controls input[type=file]").set_input_files(files=[
        {"name": path.name, "mimeType": "application/octet-stream", "buffer": path.read_bytes()} for path in files])


def test_uploads_good_corrupt_empty_wrong_type_and_flavell_without_then_with_labels(page, lab_url, tmp_path):
    open_room(page, lab_url, "rank=2&window_s=30&step_s=15&max_iter=30&n_shuffles=50")
    field(page, "Recordings").locator("select").select_option("upload")
    (tmp_path / "corrupt.npz").write_bytes(b"not a numpy archive")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("traces?")
    for name, message in (("corrupt.npz", "is not a NumPy .npz archive"), ("empty.npz", "is empty"),
                          ("notes.txt", "unknown format .txt")):
        upload(page, [tmp_path / name])
        notice(page, message).wait_for(timeout=T)
    unlabelled = tmp_path / "bare"
    unlabelled.mkdir()
    upload(page, write_flavell(unlabelled, labels=False))
    notice(page, "No neuron of 2023-01-01-01 is identified").wait_for(timeout=T)
    assert "2023-01-01-01-labels.csv" in notice(page, "No neuron of").inner_text()
    assert page.locator(".notyf__message", has_text="NaN").count() == 0
    upload(page, write_flavell(tmp_path, labels=True))  # the same recording with its label table
    notice(page, "Read 2023-01-01-01-data.h5, 2023-01-01-01-labels.csv").wait_for(timeout=T)
    press(page, "Build tensor", "enrichment scores")
    assert f"({len(NEURONS)} neurons)" in metrics(page)
    plots_drawn(page, at_least=2)
    traces = np.random.default_rng(0).standard_normal((300, 6))
    save_plain_npz(Recording(name="npz worm", time=np.arange(300) * 0.5, traces=traces, labels=NEURONS[:6]),
                   tmp_path / "good.npz")
    upload(page, [tmp_path / "good.npz"])
    notice(page, "Read good.npz").wait_for(timeout=T)
    press(page, "Build tensor", "^done:", shows="(6 neurons)")
    expect(text(page, ".connectome-summary")).to_contain_text("good.npz", timeout=T)


@pytest.fixture(scope="module")
def data_lab_url(tmp_path_factory):
    """The lab served with a data folder: one folder of labelled Flavell files, one without labels."""
    folder = tmp_path_factory.mktemp("data")
    for name, labels in (("flavell", True), ("unlabelled", False)):
        (folder / name).mkdir()
        write_flavell(folder / name, labels=labels)
    yield from served_lab(tmp_path_factory, {"NEURAL_LAB_DATA": str(folder)})


@pytest.mark.slow
def test_a_data_folder_recording_without_labels_fails_cleanly_and_with_labels_builds(page, data_lab_url):
    open_room(page, data_lab_url, "rank=2&window_s=30&step_s=15&max_iter=30&n_shuffles=50&n_worms=2&duration_s=120.0")
    assert field(page, "Recordings").locator("option").all_inner_texts() == ["simulated", "data folder", "upload"]
    assert not page.locator(".connectome-paths-off").is_visible()
    press(page, "Build tensor", "enrichment scores")    # a first result that must not outlive a failure
    field(page, "Recordings").locator("select").select_option("data folder")
    path = field(page, "Path in the data folder").locator("input")
    path.fill("unlabelled")
    path.press("Enter")
    expect(page).to_have_url(re.compile("path=unlabelled"), timeout=T)
    press(page, "Build tensor", "failed")
    stage = text(page, ".connectome-stage").inner_text()
    assert stage.startswith("failed: No neuron of 2023-01-01-01 is identified") and "labels.csv" in stage, stage
    assert metrics(page).count("—") == 7 and "reading" not in stage
    assert text(page, ".connectome-empty").inner_text().startswith("No tensor yet")
    field(page, "Recordings found in the data folder").locator("select").select_option("flavell")
    expect(page).to_have_url(re.compile("path=flavell"), timeout=T)
    expect(path).to_have_value("flavell", timeout=T)
    press(page, "Build tensor", "enrichment scores")
    assert f"({len(NEURONS)} neurons)" in metrics(page) and "flavell" in text(page, ".connectome-summary").inner_text()


@pytest.mark.slow
def test_a_second_session_beside_the_first(page, browser, lab_url):
    """Two students: the second one's build waits its turn in the lab's queue (the machine's slots
    are busy with the first one's long fit), says so, and starts by itself when the first stops."""
    other_context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = other_context.new_page()
    other.guard = PageGuard(other)
    try:
        open_room(page, lab_url, "rank=3&max_iter=2000&tol=0.0")        # a long fit in the first
        open_room(other, lab_url, SMALL.replace("rank=3", "rank=2"))
        page.get_by_role("button", name="Build tensor", exact=True).click()
        page.locator(".connectome-stage", has_text="NTF rank 3").wait_for(timeout=T)
        other.get_by_role("button", name="Build tensor", exact=True).click()
        other.locator(".task-status", has_text=re.compile("queued|running")).wait_for(timeout=T)
        assert page.locator(".task-status", has_text="running").is_visible()   # untouched by the other
        assert "NTF: —" in metrics(other) and "NTF: rank" in metrics(page)
        page.get_by_role("button", name="Stop", exact=True).click()
        page.locator(".task-status", has_text="stopped").wait_for(timeout=T)
        # the stage line follows the status on the next redraw
        expect(text(page, ".connectome-stage")).to_have_text(re.compile(r"^stopped \(NTF rank 3"), timeout=T)
        other.locator(".connectome-stage", has_text="enrichment scores").wait_for(timeout=T)
        other.locator(".task-status", has_text="finished").wait_for(timeout=T)
        assert "NTF: rank 2" in metrics(other) and "Worms: 2" in metrics(other)
        assert "NTF: rank 3" in metrics(page) and "Worms: 4" in metrics(page)   # each its own results
        other.guard.check()
    finally:
        other_context.close()
