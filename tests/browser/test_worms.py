"""The worm room in a real browser: a neuron found by name or clicked in 3D gets its trace drawn;
the defects a user's walk found stay fixed (partners blank after the 3D view, a tiny worm, two
time controls out of step, a recording without identities that said nothing, missing units)."""
import re

import h5py
import numpy as np
import pandas as pd
import pytest

from tests.browser.worms_page import (TIMEOUT_MS, TRACE_SHOWN_JS, neuron_spots, open_card, open_tab,
                                      open_worm_room, time_readout, trace_shown, worm_extent)


@pytest.mark.timeout(300)
def test_select_a_neuron_by_name_and_see_its_trace(page, lab_url, screenshots):
    open_worm_room(page, lab_url)
    page.locator(".worm-status").get_by_text("SIMULATED data").wait_for(timeout=TIMEOUT_MS)
    page.locator(".simulated-banner").get_by_text("SIMULATED data").wait_for(timeout=TIMEOUT_MS)

    search = page.get_by_placeholder("e.g. AVA, RIML, VB")
    search.fill("avb")
    search.press("Enter")
    matches = page.locator(".neuron-matches").get_by_text("matches:")
    matches.wait_for(timeout=TIMEOUT_MS)
    neuron = re.search(r"matches: (AVB\w*)", matches.inner_text()).group(1)
    page.get_by_role("button", name="Add trace").click()

    page.locator(".choices__item").get_by_text(neuron).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(TRACE_SHOWN_JS, arg=neuron, timeout=TIMEOUT_MS)
    assert not trace_shown(page, "NOT_A_NEURON")  # the check can fail
    page.set_viewport_size({"width": 1400, "height": 1350})  # heatmap, traces and behaviour
    open_tab(page, "Activity")
    page.screenshot(path=str(screenshots / "worms-activity.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.screenshot(path=str(screenshots / "worms.png"))


@pytest.mark.timeout(300)
def test_partners_are_drawn_right_after_the_3d_view(page, lab_url):
    """Was: 'Connectome partners' opened right after '3D anatomy' stayed blank for over 30 s,
    with getInteractor / removeEventListener / reading '0' errors in the console."""
    open_worm_room(page, lab_url)
    open_tab(page, "3D anatomy")
    page.locator(".bk-tab", has_text="Connectome partners").click()
    page.locator(".partner-table table").wait_for(timeout=20_000)
    open_tab(page, "Connectome partners")
    open_tab(page, "3D anatomy")
    open_tab(page, "Activity")
    page.guard.check()


@pytest.mark.timeout(300)
def test_the_worm_fills_the_3d_view_and_a_click_picks_a_neuron(page, lab_url, screenshots):
    """Was: a tiny worm with a clipped axes widget, and no picking in 3D at all."""
    open_worm_room(page, lab_url)
    open_tab(page, "3D anatomy")
    frame = page.frame_locator(".neuron-scene-3d iframe")
    iframe = page.locator(".neuron-scene-3d iframe")
    page.wait_for_timeout(1500)   # the camera is framed once the scene has loaded
    shot = iframe.screenshot()
    assert worm_extent(shot) > 0.6, "the worm should span most of the view's width"
    box = iframe.bounding_box()
    hover = frame.locator(".hover-label")
    for x, y in neuron_spots(shot)[:8]:
        page.mouse.move(box["x"] + x, box["y"] + y)
        try:
            hover.wait_for(state="visible", timeout=5000)
        except Exception:
            continue
        if "not recorded" not in hover.inner_text():   # a recorded neuron: it has a trace to add
            break
    else:
        pytest.fail("hovering the drawn neurons never named a recorded one")
    name = hover.inner_text().split(" · ")[0]
    assert re.fullmatch(r"[A-Z0-9]+", name) and re.search(r"activity \(z-score\) at the cursor: -?\d", hover.inner_text())
    page.mouse.click(box["x"] + x, box["y"] + y)
    frame.locator(".picked-label", has_text=name).wait_for(state="visible", timeout=20_000)
    page.locator(".choices__list--multiple .choices__item", has_text=name).first.wait_for(timeout=TIMEOUT_MS)
    frame.locator(".focus-label", has_text=name).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshots / "worms-3d.png"), full_page=True)
    open_tab(page, "Activity")
    page.wait_for_function(TRACE_SHOWN_JS, arg=name, timeout=TIMEOUT_MS)   # its trace is drawn
    page.locator(".bk-tab", has_text="Connectome partners").click()
    page.locator(".partner-table table").wait_for(timeout=TIMEOUT_MS)   # and its partners listed
    page.guard.check()


@pytest.mark.timeout(300)
def test_one_time_control_moves_every_view(page, lab_url, screenshots):
    """Was: a time slider and a player, two controls that did not stay in step."""
    open_worm_room(page, lab_url)
    assert page.locator("input[type=range]").count() == 1 and page.locator(".time-play").count() == 1
    open_tab(page, "Connectome replay")
    channel_frames = "() => Object.values(window.__labReplay || {}).reduce((n, s) => n + s.frames, 0)"
    drawn = page.evaluate(channel_frames)
    start = time_readout(page)
    page.locator(".time-speed").select_option("20")
    page.locator(".time-play").click()
    page.wait_for_timeout(3000)
    page.locator(".time-play").click()   # pause
    stopped = time_readout(page)
    assert stopped > start + 10, "playing at x20 for 3 s moves the cursor by tens of seconds"
    assert page.evaluate(channel_frames) > drawn + 10, "the replay draws each new moment"
    # the model's cursor (kept in the URL) comes to rest where the control stopped
    page.wait_for_function("t => { const m = window.location.search.match(/time_s=([0-9.]+)/); "
                           "return m && Math.abs(parseFloat(m[1]) - t) < 0.1 }", arg=stopped, timeout=20_000)
    page.wait_for_timeout(1500)
    assert time_readout(page) == stopped
    page.screenshot(path=str(screenshots / "worms-replay.png"), full_page=True)


def flavell_upload(folder, uid="2024-05-06-07", labels=True, n_time=300, n_cols=20):
    """A Flavell-layout recording written here (and its labels table when ``labels``)."""
    rng = np.random.default_rng(3)
    data = folder / f"{uid}-data.h5"
    with h5py.File(data, "w") as f:
        f["gcamp/trace_array"] = rng.standard_normal((n_time, n_cols)).cumsum(axis=0)
        f["timing/timestamp_confocal"] = 5000 + np.cumsum(rng.uniform(0.55, 0.65, n_time))
        f["behavior/velocity"] = np.sin(np.arange(n_time) / 20) * 0.05
        f["behavior/head_angle"] = np.cos(np.arange(n_time) / 7)
        f["behavior/reversal_vec"] = (np.arange(n_time) % 60 < 8).astype(np.int64)
    files = [data]
    if labels:
        table = folder / f"{uid}-labels.csv"
        pd.DataFrame({"trace_column_1based": [1, 2, 3, 5, 8], "label": ["AVAL", "AVAR", "RIML", "ASHL", "AVBL"],
                      "confidence": 5.0}).to_csv(table, index=False)
        files.append(table)
    return files


@pytest.mark.timeout(300)
def test_a_recording_without_identities_says_what_to_add(page, lab_url, tmp_path):
    """Was: no trace could be picked, the 3D view was all grey, partners empty, and nothing said why."""
    open_worm_room(page, lab_url)
    open_card(page, "Open your data")
    upload = page.locator("input[type=file]")
    upload.set_input_files(flavell_upload(tmp_path, labels=False))
    notice = page.locator(".worm-notice")
    notice.get_by_text("No identified neurons").wait_for(timeout=TIMEOUT_MS)
    notice.get_by_text("2024-05-06-07-labels.csv").wait_for(timeout=TIMEOUT_MS)
    page.locator(".worm-status").get_by_text("20 neurons (0 identified)").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "3D anatomy", min_ink=0.005)
    page.locator(".unplaced-neurons").get_by_text("20 traces without identity").wait_for(timeout=TIMEOUT_MS)
    page.locator(".bk-tab", has_text="Connectome partners").click()
    page.locator(".partners-empty").get_by_text("No identified neurons").wait_for(timeout=TIMEOUT_MS)

    upload.set_input_files(flavell_upload(tmp_path, labels=True))
    page.locator(".worm-status").get_by_text("20 neurons (5 identified)").wait_for(timeout=TIMEOUT_MS)
    assert not page.locator(".worm-notice").is_visible()
    open_tab(page, "Activity")
    page.wait_for_function(TRACE_SHOWN_JS, arg="AVAL", timeout=TIMEOUT_MS)
    page.guard.check()


@pytest.mark.timeout(300)
def test_replay_shows_each_neurons_activity_at_the_cursor(page, lab_url, tmp_path):
    """The replay's frames (bytes decoded in the browser) match the traces at the time cursor:
    hovering a neuron reads its activity, scaled 0-1 per neuron, at the sample on show."""
    open_worm_room(page, lab_url)
    open_card(page, "Open your data")
    files = flavell_upload(tmp_path, labels=True)
    page.locator("input[type=file]").set_input_files(files)
    page.locator(".worm-status").get_by_text("20 neurons (5 identified)").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Connectome replay")
    with h5py.File(files[0]) as f:
        traces = f["gcamp/trace_array"][:]
        time_s = f["timing/timestamp_confocal"][:] - f["timing/timestamp_confocal"][0]
    columns = {"AVAL": 0, "AVAR": 1, "RIML": 2, "ASHL": 4, "AVBL": 7}   # as flavell_upload labels them
    replay = "Object.values(window.__labReplay).find((s) => s.at('AVAL'))"
    canvas = page.locator(".worm-replay canvas").bounding_box()
    for steps in (37, 151):   # the slider moved with the keyboard, as a user may
        page.locator(".time-slider").focus()
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
        k = int(np.argmin(np.abs(time_s - time_readout(page))))
        page.wait_for_function(f"k => {replay}.index === k", arg=k, timeout=TIMEOUT_MS)
        for name, column in columns.items():
            x, y = page.evaluate(f"name => {replay}.at(name)", name)
            page.mouse.move(canvas["x"] + x, canvas["y"] + y)
            tip = page.locator(".replay-hover").get_by_text(name)
            tip.wait_for(timeout=TIMEOUT_MS)
            shown = float(re.search(r": ([\d.]+)$", tip.inner_text()).group(1))
            trace = traces[:, column]   # the z-score on show scales to the same 0-1 as the raw trace
            expected = (trace[k] - trace.min()) / (trace.max() - trace.min())
            assert shown == pytest.approx(expected, abs=0.01), (name, k)
    x, y = page.evaluate(f"() => {replay}.at('AVBR')")   # in the connectome, not in this recording
    page.mouse.move(canvas["x"] + x, canvas["y"] + y)
    page.locator(".replay-hover").get_by_text("AVBR").wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".replay-hover").inner_text().endswith("not recorded")
    page.guard.check()


@pytest.mark.timeout(300)
def test_units_on_every_quantity(page, lab_url):
    """Was: no units on 'Resample dt', 'Sim dt', the behaviour time axis and velocity."""
    open_worm_room(page, lab_url)
    page.get_by_text("Resample dt (s)").first.wait_for(timeout=TIMEOUT_MS)
    open_card(page, "Simulated worms")
    page.get_by_text("Sim dt (s)").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Duration (s)").first.wait_for(timeout=TIMEOUT_MS)
    labels = page.evaluate("""() => {
      const out = [];
      for (const doc of Bokeh.documents) for (const m of doc.all_models) {
        if (m.axis_label) out.push(m.axis_label);
        const o = m.major_label_overrides;
        if (o) out.push(...(o instanceof Map ? [...o.values()] : Object.values(o)));
      }
      return out;
    }""")
    assert "time (s)" in labels and "velocity (mm/s)" in labels and "head angle (rad)" in labels
    assert "time" not in labels and "velocity" not in labels


@pytest.mark.timeout(300)
def test_ready_as_the_lab_benchmark_judges_it_means_data_is_shown(page, lab_url):
    """benchmarks.lab times the room until RoomSpec.ready is drawn: by then the worm's data is in."""
    from benchmarks.lab import room_ready
    from lab.rooms import find_room
    room = find_room("worms")
    assert room.ready
    page.goto(f"{lab_url}/lab?room=worms", wait_until="commit", timeout=TIMEOUT_MS)
    room_ready(room)(page)
    # drawn in the same document change as the heatmap (one hold), so it is there already
    assert page.locator(".worm-status").get_by_text(re.compile(r"[\d,]+ samples")).count() == 1


@pytest.mark.timeout(180)
def test_simulated_worms_card_explains_what_shapes_the_statistics(page, lab_url, screenshots):
    open_worm_room(page, lab_url)
    open_card(page, "Simulated worms")
    page.get_by_text("Forward run (s)").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Mean forward run between reversals").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Private noise tau (s)").wait_for(timeout=TIMEOUT_MS)
    page.guard.check()
    page.set_viewport_size({"width": 1400, "height": 2200})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshots / "worms-simulated-card.png"), full_page=True)
