"""The reservoir room in a real browser: the defects a new user met (issue 13), each checked.

Every test runs under the page guard (tests/browser/conftest.py): a console error, a page error
or a request to another host (the room once fetched divider.css from a CDN) fails it.
"""
import re

from benchmarks.browser import assert_drawn
from tests.browser.reservoir_page import (LEGENDS_VISIBLE_JS, LIVE_PLOTS, TIMEOUT_MS, WAITING_NOTES_JS, badge_steps,
                                          button, click_slider_start, open_room, regime, select, status, steady_steps,
                                          tab, wait_for_status, wait_for_steps, wait_for_text, wait_for_title)


def test_the_page_shows_one_step_count_and_it_follows_the_run(page, lab_url):
    open_room(page, lab_url)
    assert badge_steps(page) == 0 and regime(page) == "not running yet"
    button(page, "Run").click()
    wait_for_steps(page, 3000)
    assert status(page).startswith("running") and "steps" not in status(page)   # it does not count on its own
    button(page, "Pause").click()
    wait_for_status(page, "paused")
    held = steady_steps(page)                        # paused: the count is the run's, and it holds
    button(page, "Step").click()
    page.locator(".step-count", has_text=f"{held + 25:,} steps").wait_for(timeout=TIMEOUT_MS)


def test_the_eigenvalue_title_names_the_step_they_were_computed_at(page, lab_url):
    open_room(page, lab_url)
    button(page, "Run").click()
    shown = wait_for_steps(page, 2000)
    tab(page, "Eigenvalues")
    title = wait_for_title(page, r"^Eigenvalues at step")
    step = int(re.search(r"at step ([\d,]+)", title).group(1).replace(",", ""))
    assert step >= shown                             # the state when the tab opened, not step 0
    figures = wait_for_text(page, ".spectrum-figures", f"at step {step:,}")
    assert "—" not in figures and "computing" not in figures
    assert_drawn(page.locator(".spectrum-plot").first)
    button(page, "Pause").click()


def test_controls_show_only_where_they_apply_and_speed_is_a_number(page, lab_url):
    open_room(page, lab_url)
    rate, lowest = page.locator(".reservoir-target-rate").first, page.locator(".reservoir-target-low").first
    assert lowest.is_visible() and not rate.is_visible()          # uniform targets: a range, not one rate
    select(page, "targets", "homogeneous")
    rate.wait_for(state="visible", timeout=TIMEOUT_MS)
    lowest.wait_for(state="hidden", timeout=TIMEOUT_MS)
    select(page, "topology", "C. elegans")                        # the connectome fixes N and the wiring
    page.locator(".reservoir-n").first.wait_for(state="hidden", timeout=TIMEOUT_MS)
    assert not page.locator(".reservoir-in-degree").first.is_visible()
    speed = page.locator(".reservoir-speed").first
    assert speed.locator(".noUi-target").count() == 0             # not a 0-100,000 slider ...
    field = speed.locator("input").first                          # ... a number to type
    field.fill("2500")
    field.press("Enter")
    page.wait_for_timeout(300)
    assert field.input_value() == "2500"


def test_before_run_the_plots_say_what_they_will_show(page, lab_url):
    open_room(page, lab_url)
    page.wait_for_timeout(1000)
    legends = page.evaluate(LEGENDS_VISIBLE_JS)
    assert len(legends) == 2 and not any(legends)                 # no legend of lines not drawn yet
    notes = page.evaluate(WAITING_NOTES_JS)
    assert any("E and I input currents" in note for note in notes) and len(notes) == 4
    for plot in LIVE_PLOTS:
        assert_drawn(page.locator(plot).first, what=plot)
    button(page, "Step").click()
    page.locator(".step-count", has_text="25 steps").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({LEGENDS_VISIBLE_JS})().every(v => v)", timeout=TIMEOUT_MS)
    assert page.evaluate(WAITING_NOTES_JS) == []


def test_balance_moves_the_regime(page, lab_url, screenshots):
    open_room(page, lab_url)
    button(page, "Run").click()
    page.locator(".regime-badge", has_text="asynchronous").wait_for(timeout=TIMEOUT_MS)
    click_slider_start(page, "balance")
    page.locator(".reservoir-balance", has_text="Balance g = I/E: 0").wait_for(timeout=TIMEOUT_MS)
    page.locator(".regime-badge", has_text="saturated").wait_for(timeout=TIMEOUT_MS)
    button(page, "Pause").click()
    wait_for_status(page, "paused")
