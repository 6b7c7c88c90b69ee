"""The reservoir room in a real browser: run it, move the balance slider, run a short sweep."""
TIMEOUT_MS = 60_000
# Bokeh draws plot titles on a canvas, so the page's models are searched for the title instead
PLOT_TITLED = """(words) => Array.from(window.Bokeh.documents).some(doc =>
  Array.from(doc._all_models.values()).some(m => m.type === "Title" && (m.text || "").includes(words)))"""


def open_room(page, lab_url):
    page.goto(f"{lab_url}/lab?room=reservoir", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-reservoir").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Run", exact=True).first.wait_for(timeout=TIMEOUT_MS)


def click_slider_start(page, label):
    """Click the left end of the slider whose label starts with ``label`` (its lowest value)."""
    slider = page.locator(".bk-input-group", has_text=label).locator(".noUi-target").first
    box = slider.bounding_box()
    page.mouse.click(box["x"] + 1, box["y"] + box["height"] / 2)


def test_run_and_the_balance_slider_changes_the_regime(page, lab_url, screenshots):
    open_room(page, lab_url)
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(".regime-badge", has_text="asynchronous").wait_for(timeout=TIMEOUT_MS)
    page.locator(".task-status").get_by_text("running").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "reservoir-live.png"))
    click_slider_start(page, "Balance g")
    page.locator(".bk-input-group", has_text="Balance g = I/E: 0").wait_for(timeout=TIMEOUT_MS)
    page.locator(".regime-badge", has_text="saturated").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.locator(".task-status").get_by_text("paused").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".bk-tab", has_text="Eigenvalues").first.click()
    page.get_by_role("button", name="Eigenvalues", exact=True).click()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "reservoir-eigenvalues.png"))
    assert page.console_errors == []


def test_a_short_sweep_ends_in_a_plot_and_a_table(page, lab_url, screenshots):
    open_room(page, lab_url)
    page.locator(".bk-tab", has_text="Sweep").first.click()
    balances = page.locator(".bk-input-group", has_text="Balances g").locator("input").first
    balances.fill("[0.5, 1.5]")
    balances.press("Enter")
    click_slider_start(page, "Seeds")
    page.locator(".bk-input-group", has_text="Seeds: 1").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Run sweep").click()
    status = page.locator(".task-status", has_text="finished").filter(has_text="/ 2")
    status.wait_for(timeout=90_000)
    table = page.locator("table").filter(has_text="memory capacity")
    table.first.wait_for(timeout=TIMEOUT_MS)
    assert table.first.locator("tbody tr").count() == 4   # 2 balances x static/adaptive x 1 seed
    page.wait_for_function(PLOT_TITLED, arg="MC against balance", timeout=TIMEOUT_MS)
    page.wait_for_function(PLOT_TITLED, arg="Regime map (first seed)", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshots / "reservoir-sweep.png"), full_page=True)
    assert page.console_errors == []
