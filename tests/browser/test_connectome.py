"""The dynamic-connectome room in a real browser with every default (the lecturer's first click):
build, look at every result tab, export. The journeys (test_connectome_journeys.py) walk the rest
and take the README's screenshots."""
import zipfile

from benchmarks.browser import assert_drawn

TIMEOUT_MS = 90_000


def open_tab(page, name):
    page.locator(".bk-tab", has_text=name).first.click(timeout=TIMEOUT_MS)


def test_build_a_small_tensor_and_browse_the_results(page, lab_url, tmp_path):
    page.goto(f"{lab_url}/lab?room=connectome", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-connectome").first.wait_for(timeout=TIMEOUT_MS)
    # the defaults are the small simulated set: 4 worms x 360 s, 20 s windows, rank 5
    page.get_by_role("button", name="Build tensor", exact=True).click(timeout=TIMEOUT_MS)
    page.locator(".task-status").get_by_text("finished").wait_for(timeout=TIMEOUT_MS)
    page.locator(".connectome-summary").get_by_text("35 windows").wait_for(timeout=TIMEOUT_MS)
    page.locator(".connectome-stage").get_by_text("enrichment scores").wait_for(timeout=TIMEOUT_MS)

    open_tab(page, "Components")
    page.get_by_text("Component 0 ·").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".component-card canvas").first.wait_for(timeout=TIMEOUT_MS)   # plots are canvases
    page.wait_for_timeout(1500)
    assert_drawn(page.locator(".component-card .component-plot").first)

    open_tab(page, "Communities")
    page.locator(".community-scene canvas").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".community-scene").first.scroll_into_view_if_needed()
    page.wait_for_timeout(2000)
    assert_drawn(page.locator(".community-scene canvas").first, min_ink=0.01)

    open_tab(page, "Enrichment")
    page.get_by_text("signal propagation").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("gap junction").first.wait_for(timeout=TIMEOUT_MS)

    open_tab(page, "Export")
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_text("Download factors, partitions, enrichment and settings (zip)").click()
    path = tmp_path / "export.zip"
    download.value.save_as(path)
    assert {"connectome_partitions.csv", "connectome_settings.json"} <= set(zipfile.ZipFile(path).namelist())
    page.guard.check()


def test_a_rank_sweep_draws_the_rank_selection_plots(page, lab_url):
    page.goto(f"{lab_url}/lab?room=connectome", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-connectome").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Factorise after build").click(timeout=TIMEOUT_MS)   # the tensor only, then sweep
    page.get_by_role("button", name="Build tensor", exact=True).click()
    page.locator(".connectome-summary").get_by_text("35 windows").wait_for(timeout=TIMEOUT_MS)
    page.locator(".task-status").get_by_text("finished").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Sweep ranks", exact=True).click()
    page.locator(".connectome-stage").get_by_text("rank sweep done").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Rank selection")
    page.locator(".connectome-recommendation").get_by_text("Recommended").wait_for(timeout=TIMEOUT_MS)
    page.locator(".connectome-rank-plot canvas").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    for k in range(3):
        assert_drawn(page.locator(".connectome-rank-plot").nth(k))
    page.guard.check()
