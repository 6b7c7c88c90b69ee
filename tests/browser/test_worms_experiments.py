"""The worm room's experiments in Chromium (issue 16): a link opens one in the room's Experiments
tab; predicted, run to its verdict and drawn; the room's other tabs still work afterwards. Runs
under the page guard."""
import pytest

from benchmarks.browser import wait_drawn
from tests.browser.worms_page import TIMEOUT_MS, open_tab, open_worm_room

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_an_experiment_from_a_link_runs_to_its_verdict_and_the_room_carries_on(page, lab_url, screenshots):
    open_worm_room(page, lab_url, "&experiment=velocity-neurons")
    page.locator(".experiments-panel").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".bk-tab.bk-active", has_text="Experiments").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".experiment-question", has_text="velocity").first.wait_for(timeout=TIMEOUT_MS)
    run = page.get_by_role("button", name="Run experiment", exact=True)
    assert run.is_disabled()                                       # a prediction first
    page.get_by_text("Only partly: slow or mixed neurons blur it").first.click()
    page.wait_for_function("b => !b.disabled", arg=run.element_handle(), timeout=TIMEOUT_MS)
    run.click()
    page.locator(".experiment-verdict", has_text="You predicted").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".experiment-verdict b").first.inner_text().strip() in ("Reproduced", "Not reproduced")
    page.wait_for_timeout(1000)   # the figure is drawn anew with the verdict, after it
    wait_drawn(page.locator(".experiment-figure").first, what="the experiment's figure")
    page.locator(".experiment-unplaced", has_text="placed at their atlas positions").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".experiment-verdict").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "worms-experiments.png"))
    open_tab(page, "Activity")                                     # the room carries on
    page.guard.check()


def test_the_low_dimensional_brain_runs_on_an_uploaded_recording_and_says_what_it_could_not_test(
        page, lab_url, screenshots):
    from tests.browser.worms_page import open_card
    from tests.lab.test_worms_experiments import planted_csv
    open_worm_room(page, lab_url, "&experiment=low-dimensional-brain")
    open_card(page, "Open your data")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "planted.csv", "mimeType": "text/csv", "buffer": planted_csv(with_behaviour=False)}])
    page.locator(".worm-status").get_by_text("planted").wait_for(timeout=TIMEOUT_MS)
    page.locator(".bk-tab", has_text="Experiments").click()
    page.get_by_text("Three directions carry most of it").first.click()
    run = page.get_by_role("button", name="Run experiment", exact=True)
    page.wait_for_function("b => !b.disabled", arg=run.element_handle(), timeout=TIMEOUT_MS)
    run.click()
    verdict = page.locator(".experiment-verdict", has_text="Measured on").first
    verdict.wait_for(timeout=TIMEOUT_MS)
    assert verdict.locator("b").first.inner_text().strip() == "Partly tested"
    for text in ("the recording on show, planted", "no forward/reversal labels"):   # (the pane's text is in its shadow root)
        page.locator(".experiment-verdict", has_text=text).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)   # the figure is drawn anew with the verdict, after it
    wait_drawn(page.locator(".experiment-figure").first, what="the experiment's figures")
    page.locator(".experiment-verdict").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "worms-experiments-uploaded.png"))
    page.guard.check()
