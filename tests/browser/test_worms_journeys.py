"""Walks a real user takes through the worm room, in a real browser. Each one: no console or page
error and no request to another host (the page guard), every plot shown is drawn (size and ink),
and what the page says matches what the room holds (files written here, the engine's answers).
(The room has no export; a Flavell recording without and then with its labels is walked in
test_worms.py, as the defect it was.)"""
import re

import numpy as np
import pandas as pd
import pytest

from benchmarks.browser import wait_drawn
from engines.worms import CANONICAL_NEURONS, connectome_graph, shortest_paths
from tests.browser.worms_page import (TIMEOUT_MS, TITLE_SHOWN_JS, TRACE_SHOWN_JS, open_card, open_tab,
                                      open_worm_room)

pytestmark = pytest.mark.slow


def notice(page, text: str):
    return page.locator(".notyf__message", has_text=text)


@pytest.mark.timeout(420)
def test_every_tab_in_two_orders_and_back(page, lab_url):
    open_worm_room(page, lab_url)
    for name in ("3D anatomy", "Connectome partners", "Activity", "Connectome replay", "Compare worms",
                 "3D anatomy", "Activity"):
        open_tab(page, name)
    page.locator("select").nth(1).select_option("simulated worm 02")
    page.locator(".worm-status").get_by_text("simulated worm 02").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="clustering", exact=True).click()
    for name in ("Compare worms", "Connectome replay", "Connectome partners", "3D anatomy", "Activity"):
        open_tab(page, name)
    page.wait_for_function(TITLE_SHOWN_JS, arg="simulated worm 02: all neurons", timeout=TIMEOUT_MS)


@pytest.mark.timeout(420)
def test_back_and_forward_move_between_what_the_user_set(page, lab_url):
    open_worm_room(page, lab_url)
    page.wait_for_function("() => window.location.search.includes('selected=')", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)   # later changes are separate steps in the history
    page.get_by_role("button", name="connectome", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('order=connectome')", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)
    page.locator("select").nth(1).select_option("simulated worm 03")
    page.locator(".worm-status").get_by_text("simulated worm 03").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)

    page.go_back()
    page.locator(".worm-status").get_by_text("simulated worm 01").wait_for(timeout=TIMEOUT_MS)
    assert "order=connectome" in page.evaluate("window.location.search")
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('order=')", timeout=TIMEOUT_MS)
    page.go_forward()
    page.wait_for_function("() => window.location.search.includes('order=connectome')", timeout=TIMEOUT_MS)
    page.go_forward()
    page.locator(".worm-status").get_by_text("simulated worm 03").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Activity")


@pytest.mark.timeout(420)
def test_uploads_good_corrupt_empty_and_of_the_wrong_type(page, lab_url, tmp_path):
    open_worm_room(page, lab_url)
    open_card(page, "Open your data")
    upload = page.locator("input[type=file]")
    good = tmp_path / "mine.csv"
    t = np.arange(50) * 0.5
    pd.DataFrame({"time": t, "AVAL": np.sin(t), "RIML": np.cos(t), "roi_7": t,
                  "behaviour:velocity": 0.01 * t}).to_csv(good, index=False)
    upload.set_input_files(str(good))
    page.locator(".worm-status").get_by_text("3 neurons (2 identified) · 50 samples · 24 s").wait_for(
        timeout=TIMEOUT_MS)
    open_tab(page, "Activity")
    # the traces shown that this file has stay shown (AVAL: the first of the default picks)
    page.wait_for_function(TRACE_SHOWN_JS, arg="AVAL", timeout=TIMEOUT_MS)

    bad = [("broken.h5", b"this is not HDF5", r"broken\.h5"), ("empty.csv", b"", r"empty\.csv' is empty"),
           ("notes.txt", b"hello", "unknown format")]
    for name, data, message in bad:
        upload.set_input_files(files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
        page.locator(".notyf__message").filter(has_text=re.compile(message)).first.wait_for(timeout=TIMEOUT_MS)
        # the room keeps what it had
        page.locator(".worm-status").get_by_text("3 neurons (2 identified)").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "3D anatomy")
    page.locator(".unplaced-neurons").get_by_text("1 traces without identity").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Activity")


@pytest.mark.timeout(420)
def test_paths_between_two_neurons_match_the_engine(page, lab_url):
    open_worm_room(page, lab_url)
    open_tab(page, "Connectome replay")
    for where, name in ((".path-from", "ASHL"), (".path-to", "VA5")):
        box = page.locator(f"{where} input")
        box.fill(name)
        box.press("Enter")
    expected = shortest_paths(connectome_graph(CANONICAL_NEURONS), "ASHL", "VA5", max_hops=3)
    best = " → ".join(expected.paths[0][0])
    row = page.locator(".path-table tr", has_text=best).first
    row.wait_for(timeout=TIMEOUT_MS)
    total = expected.paths[0][2]
    row.get_by_text(re.compile(rf"^{total:g}(\.0)?$")).wait_for(timeout=TIMEOUT_MS)   # its synapses
    page.locator(".path-note").get_by_text(f"{expected.hops}-hop paths from ASHL to VA5").wait_for(
        timeout=TIMEOUT_MS)
    wait_drawn(page.locator(".worm-replay"), 0.02, "replay with the path")


@pytest.mark.timeout(420)
def test_a_second_session_beside_the_first(browser, lab_url):
    from benchmarks.browser import PageGuard
    pages = []
    for _ in range(2):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.guard = PageGuard(page)
        open_worm_room(page, lab_url)
        pages.append(page)
    first, second = pages
    search = first.get_by_placeholder("e.g. AVA, RIML, VB")
    search.fill("D")
    matches = first.locator(".neuron-matches").get_by_text("matches:")
    matches.wait_for(timeout=TIMEOUT_MS)
    neuron = re.search(r"matches: (\w+)", matches.inner_text()).group(1)   # a D... neuron it recorded
    search.fill(neuron)
    search.press("Enter")
    chips = ".choices__list--multiple .choices__item"
    first.locator(chips, has_text=neuron).first.wait_for(timeout=TIMEOUT_MS)
    for page in pages:
        open_tab(page, "3D anatomy")
    assert first.frame_locator(".neuron-scene-3d iframe").locator("canvas").count() == 1
    second.wait_for_timeout(2000)
    assert second.locator(chips, has_text=neuron).count() == 0   # the other session is untouched
    assert first.locator(".neuron-scene-3d iframe").get_attribute("src") != \
        second.locator(".neuron-scene-3d iframe").get_attribute("src")   # one 3D app each
    for page in pages:
        open_tab(page, "Activity")
        page.guard.check()
        page.context.close()
