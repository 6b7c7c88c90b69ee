"""The reservoir's experiments in Chromium (issue 16): opened from a link, from the home page and
from the room's own link; predicted, run to a verdict, drawn; then the room carries on.

Runs under the page guard (no console or page errors, no request to another host)."""
import re

from benchmarks.browser import assert_drawn, wait_drawn
from tests.browser.reservoir_page import (LIVE_PLOTS, TIMEOUT_MS, button, click_slider_start, open_room, regime,
                                          setting_value, tab, wait_for_status)



def active_tab(page) -> str:
    return page.locator(".bk-tab.bk-active").first.inner_text().strip()


def experiments_tab_shown(page) -> None:
    page.locator(".bk-tab.bk-active", has_text="Experiments").first.wait_for(timeout=TIMEOUT_MS)


def test_an_experiment_from_a_link_runs_to_its_verdict_and_the_room_carries_on(page, lab_url, screenshots):
    open_room(page, lab_url, "&gain=20&adaptation=one-step&experiment=balance-memory")
    panel = page.locator(".experiments-panel").first
    panel.wait_for(timeout=TIMEOUT_MS)
    experiments_tab_shown(page)
    page.locator(".experiment-question", has_text="Balance decides memory").first.wait_for(timeout=TIMEOUT_MS)
    run = button(page, "Run experiment")
    assert run.is_disabled()                                       # a prediction first
    page.get_by_text("Near balance or slightly inhibition-dominated").first.click()
    page.wait_for_function("b => !b.disabled", arg=run.element_handle(), timeout=TIMEOUT_MS)
    panel.locator("select").filter(has=page.locator("option", has_text="smoke")).first.select_option(label="smoke")
    page.wait_for_timeout(500)
    run.click()
    verdict = page.locator(".experiment-verdict", has_text="You predicted").first
    verdict.wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".experiment-verdict b").first.inner_text().strip() in ("Reproduced", "Not reproduced")
    assert setting_value(page, "adaptation") == "off" and float(setting_value(page, "gain")) == 10   # set visibly
    assert "gain" not in page.url and "experiment=balance-memory" in page.url
    page.wait_for_timeout(1000)   # the figure is drawn anew with the verdict, after it
    wait_drawn(page.locator(".experiment-figure").first, what="the experiment's figure")
    page.locator(".experiment-verdict").first.scroll_into_view_if_needed()   # the figure and its verdict
    page.screenshot(path=str(screenshots / "reservoir-experiments.png"))
    tab(page, "Live")                                              # carry on exploring from there
    click_slider_start(page, "balance")
    button(page, "Run").click()
    page.locator(".regime-badge", has_text="saturated").wait_for(timeout=TIMEOUT_MS)
    button(page, "Pause").click()
    wait_for_status(page, "paused")
    assert regime(page) == "saturated" and float(setting_value(page, "balance")) == 0
    for plot in LIVE_PLOTS:
        assert_drawn(page.locator(plot).first, what=plot)


def test_the_home_page_and_the_rooms_own_link_open_its_experiments(page, lab_url):
    page.goto(f"{lab_url}/lab", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".experiment-list").get_by_role("button", name="Local adaptation removes the fine-tuning").click()
    page.locator(".experiment-question", has_text="Local adaptation removes").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile(r"room=reservoir.*experiment=adaptation-flattens"), timeout=TIMEOUT_MS)
    assert active_tab(page) == "Experiments"
    tab(page, "Live")
    assert_drawn(page.locator(".live-raster").first, what="the raster")
    button(page, "Its experiments: reproduce the papers' claims →").click()
    experiments_tab_shown(page)
    assert page.locator(".experiment-question", has_text="Local adaptation removes").first.is_visible()
