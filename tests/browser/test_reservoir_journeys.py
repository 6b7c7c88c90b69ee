"""Walks a real user takes through the reservoir room (issue 13), in Chromium.

Each journey runs under the page guard (no console or page errors, no request to another host),
checks that every plot on show is drawn (benchmarks.browser.assert_drawn) and that the values
shown follow what was done. The lab is served here with its log kept, so a journey can also
check that the server logged no traceback. The README's reservoir screenshots come from here.
"""
import csv
import io
import re
from pathlib import Path

import pytest

from benchmarks.browser import assert_drawn, served_lab
from tests.browser.reservoir_page import (TAB_PLOTS, TIMEOUT_MS, Y_RANGE_JS, badge_steps, button, click_slider_end, click_slider_start,
                                          open_room, regime, scroll_to_top, select, setting_value, status, steady_steps,
                                          tab, text, wait_for_status, wait_for_steps, wait_for_text, wait_for_title)

pytestmark = pytest.mark.slow
LOG_PROBLEMS = re.compile(r"Traceback|CommClosedError|still alive after|ERROR")
BALANCE_ZERO = re.compile(r"balance=0(\.0)?(&|$)")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, server log) of a lab served for these journeys."""
    log = tmp_path_factory.mktemp("reservoir-server") / "panel.log"
    with served_lab(log_path=log) as base:
        yield base, log


def plots_drawn(page, name: str) -> None:
    for plot in TAB_PLOTS[name]:
        assert_drawn(page.locator(plot).first, what=f"{name}: {plot}")


def show_tab(page, name: str) -> None:
    tab(page, name)
    page.locator(TAB_PLOTS[name][0]).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)   # the plots of a tab shown for the first time render now


def test_every_tab_in_several_orders_and_back(page, served, screenshots):
    base, _ = served
    open_room(page, base)
    for name in ("Live", "Eigenvalues", "Task", "Sweep", "Live"):   # in order, before anything ran
        show_tab(page, name)
        plots_drawn(page, name)
    button(page, "Run").click()
    wait_for_steps(page, 2000)
    for name in ("Sweep", "Task", "Eigenvalues", "Live", "Eigenvalues"):   # backwards, and back again
        show_tab(page, name)
        plots_drawn(page, name)
    title = wait_for_title(page, r"^Eigenvalues at step [1-9]")
    wait_for_text(page, ".spectrum-figures", "at step")
    scroll_to_top(page)
    page.screenshot(path=str(screenshots / "reservoir-eigenvalues.png"))
    step = title.split("at step ")[1].split(":")[0]
    assert f"at step {step}" in wait_for_text(page, ".spectrum-figures", f"at step {step}")
    show_tab(page, "Task")
    button(page, "Train readout").click()
    figures = wait_for_text(page, ".task-figures", "MC =")
    mc = float(re.search(r"MC = ([\d.]+)", figures).group(1))
    assert 1.0 < mc < 100 and wait_for_title(page, rf"^memory capacity: MC = {mc:.3g}")   # figures and plot agree
    plots_drawn(page, "Task")
    scroll_to_top(page)
    page.screenshot(path=str(screenshots / "reservoir-task.png"))
    show_tab(page, "Live")
    plots_drawn(page, "Live")
    button(page, "Pause").click()


def test_run_pause_step_and_reset_in_odd_orders(page, served):
    base, _ = served
    open_room(page, base)
    button(page, "Pause").click()                      # nothing runs: nothing happens
    button(page, "Reset").click()
    assert badge_steps(page) == 0
    button(page, "Step").click()
    page.locator(".step-count", has_text="25 steps").wait_for(timeout=TIMEOUT_MS)
    button(page, "Step").click()
    page.locator(".step-count", has_text="50 steps").wait_for(timeout=TIMEOUT_MS)
    button(page, "Run").click()
    wait_for_steps(page, 1000)
    assert button(page, "Step").is_disabled()           # stepping by hand waits for a pause
    button(page, "Run").click()                         # a second Run changes nothing
    button(page, "Reset").click()                       # reset while running: stopped, at rest
    page.locator(".step-count", has_text=re.compile(r"^0 steps$")).wait_for(timeout=TIMEOUT_MS)
    wait_for_status(page, "stopped")
    assert regime(page) == "not running yet" or badge_steps(page) == 0
    button(page, "Run").click()
    wait_for_steps(page, 500)
    button(page, "Pause").click()
    wait_for_status(page, "paused")
    held = steady_steps(page)
    button(page, "Step").click()
    page.locator(".step-count", has_text=f"{held + 25:,} steps").wait_for(timeout=TIMEOUT_MS)
    button(page, "Run").click()                         # resumes from there
    wait_for_steps(page, held + 1000)
    button(page, "Pause").click()
    plots_drawn(page, "Live")


def test_structure_and_adaptation_change_while_running(page, served, screenshots):
    base, _ = served
    open_room(page, base)
    button(page, "Run").click()
    page.locator(".regime-badge", has_text="asynchronous").wait_for(timeout=TIMEOUT_MS)
    click_slider_start(page, "balance")                 # g = 0: excitation wins
    page.locator(".regime-badge", has_text="saturated").wait_for(timeout=TIMEOUT_MS)
    select(page, "adaptation", "local rule")            # each neuron's inhibition learns its target
    wait_for_text(page, ".reservoir-message", "Adaptation: local rule")
    page.locator(".regime-badge", has_text="asynchronous").wait_for(timeout=TIMEOUT_MS)
    assert status(page).startswith("running")
    page.wait_for_timeout(1500)
    plots_drawn(page, "Live")
    scroll_to_top(page)
    page.screenshot(path=str(screenshots / "reservoir-live.png"))
    select(page, "topology", "C. elegans")              # a new network, run on
    page.wait_for_function(f"() => ({Y_RANGE_JS})('Rates of all neurons')[1] === 302", timeout=TIMEOUT_MS)
    wait_for_steps(page, 500)
    assert status(page).startswith("running")
    button(page, "Pause").click()
    plots_drawn(page, "Live")


def test_a_sweep_then_its_csv_and_a_clean_server_log(page, served, screenshots):
    base, log = served
    logged_before = len(log.read_text())
    open_room(page, base)
    show_tab(page, "Sweep")
    assert "best static: —" in text(page, ".sweep-figures")
    balances = page.locator(".bk-input-group", has_text="Balances g").locator("input").first
    balances.fill("[0.5, 1.5]")
    balances.press("Enter")
    click_slider_start(page, "sweep-seeds")
    page.locator(".reservoir-sweep-seeds", has_text="Seeds: 1").wait_for(timeout=TIMEOUT_MS)
    button(page, "Run sweep").click()
    page.locator(".task-status", has_text="finished").filter(has_text="/ 2").wait_for(timeout=180_000)
    table = page.locator("table").filter(has_text="memory capacity")
    table.first.wait_for(timeout=TIMEOUT_MS)
    assert table.first.locator("tbody tr").count() == 4   # 2 balances x static/adaptive x 1 seed
    wait_for_title(page, "MC against balance")
    figures = wait_for_text(page, ".sweep-figures", "best adaptive: MC")
    page.wait_for_timeout(1000)
    plots_drawn(page, "Sweep")
    scroll_to_top(page)
    page.screenshot(path=str(screenshots / "reservoir-sweep.png"))
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 4 and {row["balance"] for row in rows} == {"0.5", "1.5"}
    best = max((row for row in rows if row["adaptive"] == "True"), key=lambda row: float(row["value"]))
    assert f"MC {float(best['value']):.3g} at g = {float(best['balance']):g}" in figures   # the page shows the file's best
    # a second sweep, stopped half-way: twenty seeds (21 jobs), so it cannot end by itself before
    # the Stop arrives on a loaded machine (two jobs took 3 s: in CI it had "finished" first)
    click_slider_end(page, "sweep-seeds")
    page.locator(".reservoir-sweep-seeds", has_text="Seeds: 20").wait_for(timeout=TIMEOUT_MS)
    button(page, "Run sweep").click()
    wait_for_sweep_status(page, "running", "/ 21")
    button(page, "Stop sweep").click()
    wait_for_sweep_status(page, "stopped", "/ 21")
    page.wait_for_timeout(2000)
    logged = log.read_text()[logged_before:]   # what the server wrote while these sweeps ran
    problems = [line for line in logged.splitlines() if LOG_PROBLEMS.search(line)]
    assert not problems, "the server logged:\n" + logged


def wait_for_sweep_status(page, state: str, steps: str) -> None:
    try:
        page.locator(".task-status", has_text=state).filter(has_text=steps).wait_for(timeout=TIMEOUT_MS)
    except Exception:
        raise AssertionError(f"no status line says {state} and {steps}: "
                             f"{page.locator('.task-status:visible').all_inner_texts()!r}") from None


def test_back_and_forward_restore_the_settings(page, served):
    base, _ = served
    open_room(page, base)
    click_slider_start(page, "balance")
    page.wait_for_url(BALANCE_ZERO, timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)                          # a separate step in the history
    select(page, "adaptation", "local rule")
    page.wait_for_url(re.compile(r"adaptation=local"), timeout=TIMEOUT_MS)
    page.go_back()
    page.wait_for_url(lambda url: "adaptation" not in url and BALANCE_ZERO.search(url), timeout=TIMEOUT_MS)
    page.locator(".reservoir-adaptation select").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert setting_value(page, "adaptation") == "off" and float(setting_value(page, "balance")) == 0
    page.go_back()
    page.wait_for_url(lambda url: "balance" not in url, timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert float(setting_value(page, "balance")) == 1
    page.go_forward()
    page.wait_for_url(BALANCE_ZERO, timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert float(setting_value(page, "balance")) == 0
    # a copied link reproduces the setup
    open_room(page, base, "&topology=C.+elegans&balance=1.5&adaptation=one-step&targets=homogeneous&seed=3")
    assert setting_value(page, "topology") == "C. elegans" and setting_value(page, "adaptation") == "one-step"
    assert float(setting_value(page, "balance")) == 1.5 and setting_value(page, "seed") == "3"
    assert page.locator(".reservoir-target-rate").first.is_visible()
    button(page, "Step").click()
    page.locator(".step-count", has_text="25 steps").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({Y_RANGE_JS})('Rates of all neurons')[1] === 302", timeout=TIMEOUT_MS)


def test_a_second_session_beside_the_first(page, served, browser):
    base, _ = served
    open_room(page, base)
    other = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        from benchmarks.browser import PageGuard
        guard = PageGuard(other)
        open_room(other, base)
        button(page, "Run").click()
        wait_for_steps(page, 1000)
        assert badge_steps(other) == 0 and regime(other) == "not running yet"   # its own room
        click_slider_start(other, "balance")
        button(other, "Run").click()
        other.locator(".regime-badge", has_text="saturated").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(1000)
        assert regime(page) == "asynchronous" and float(setting_value(page, "balance")) == 1
        other.context.close()                              # one tab closes; the other carries on
        held = badge_steps(page)
        wait_for_steps(page, held + 1000)
        button(page, "Pause").click()
        guard.check()
    finally:
        if not other.is_closed():
            other.context.close()
