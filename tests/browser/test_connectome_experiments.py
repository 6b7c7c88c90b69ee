"""The dynamic connectome's experiments in Chromium (issue 16): a link opens one in the room's
Experiments tab; predicted, run to its verdict and drawn; the room's own widgets show the settings
it used, and the room builds a tensor from there. Runs under the page guard."""
import pytest

from benchmarks.browser import wait_drawn
from tests.browser.test_connectome_journeys import SMALL, T, field, open_room, tab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_an_experiment_from_a_link_runs_to_its_verdict_and_the_room_carries_on(page, lab_url, screenshots):
    open_room(page, lab_url, f"{SMALL}&window_s=12.0&experiment=lagged-coactivation")
    panel = page.locator(".experiments-panel").first
    panel.wait_for(timeout=T)
    page.locator(".bk-tab.bk-active", has_text="Experiments").first.wait_for(timeout=T)
    page.locator(".experiment-question", has_text="Non-linear affinity sees what correlation misses").first.wait_for(timeout=T)
    run = page.get_by_role("button", name="Run experiment", exact=True)
    assert run.is_disabled()                                       # a prediction first
    page.get_by_text("The kernel affinity sees them, correlation misses them").first.click()
    page.wait_for_function("b => !b.disabled", arg=run.element_handle(), timeout=T)
    run.click()
    page.locator(".experiment-verdict", has_text="You predicted").first.wait_for(timeout=T)
    assert page.locator(".experiment-verdict b").first.inner_text().strip() in ("Reproduced", "Not reproduced")
    assert field(page, "Window (s)").locator("input").input_value() == "30"       # set visibly, in the room
    assert field(page, "Affinity").locator("select").input_value() == "kernel"
    lag = page.locator(".connectome-controls .bk-slider-title", has_text="Kernel lag tolerance").first
    assert float(lag.inner_text().split(":")[-1]) == 6.0
    page.wait_for_timeout(1000)   # the figure is drawn anew with the verdict, after it
    wait_drawn(page.locator(".experiment-figure").first, what="the experiment's figure")
    page.locator(".experiment-verdict").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "connectome-experiments.png"))
    page.get_by_role("button", name="Build tensor", exact=True).click(timeout=T)   # carry on from there
    page.locator(".connectome-stage", has_text="enrichment scores").wait_for(timeout=T)
    page.locator(".connectome-metrics", has_text="× 30 s every 15 s").first.wait_for(timeout=T)
    tab(page, "Tensor")
    page.locator(".connectome-summary").first.wait_for(timeout=T)
    page.get_by_role("button", name="Its experiments: reproduce the paper's claims →").click()
    page.locator(".bk-tab.bk-active", has_text="Experiments").first.wait_for(timeout=T)
    page.guard.check()
