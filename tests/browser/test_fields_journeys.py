"""Walks a real user takes through the neural fields room, in Chromium.

Each journey checks what the user sees: no console or page error (the page guard), every plot
on show drawn (``assert_drawn``), the numbers shown equal the model's (parameter counts against
the fields the declarations build), exactly one 3-D canvas while a shape is shown and none
while an image is. Small targets (a 64 px image, a coarse live mesh) keep the walks short.
"""
import io
import re

import numpy as np
import pytest
from PIL import Image

from benchmarks.browser import REPO, PageGuard, assert_drawn, free_port, serve_lab, stop, wait_until_up
from lab.fields import knobs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 120_000
SMALL = "image_size=64&knobs=batch_size:1024"   # a quick image for every model (NeuRBF needs 4096 pixels)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The lab served for this module, with its log kept: a journey fails on a server traceback."""
    port = free_port()
    log = tmp_path_factory.mktemp("fields-server") / "panel.log"
    process = serve_lab(port, log_path=log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/lab", process)
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop(process)


@pytest.fixture
def lab(served):
    base, log = served
    start = log.stat().st_size
    yield base
    new = log.read_text()[start:]
    # the lab's own tracebacks (its files in the frames); Tornado's note that a closed tab missed
    # a message is not one
    assert not ("Traceback" in new and str(REPO) in new), f"the server logged a traceback:\n{new[-4000:]}"


# ---- what a user does ---------------------------------------------------------------------------
def open_room(page, base, query=""):
    page.goto(f"{base}/lab?room=fields{'&' + query if query else ''}", wait_until="domcontentloaded",
              timeout=TIMEOUT_MS)
    page.locator(".fields-metric p").first.wait_for(timeout=TIMEOUT_MS)
    if "task=shape" not in query:
        page.locator(".fields-target canvas").first.wait_for(timeout=TIMEOUT_MS)


def click(page, name):
    page.get_by_role("button", name=name, exact=True).first.click(timeout=TIMEOUT_MS)
    page.mouse.move(5, 5)  # no tooltip left over the page


def metric(page) -> str:
    return "\n".join(page.locator(".fields-metric p").all_inner_texts())


def wait_for_metric(page, pattern: str, timeout_ms: int = TIMEOUT_MS) -> re.Match:
    waited = 0
    while waited < timeout_ms:
        found = re.search(pattern, metric(page))
        if found:
            return found
        page.wait_for_timeout(250)
        waited += 250
    raise AssertionError(f"the metric line never matched {pattern!r}: {metric(page)!r}")


def choose_task(page, task):
    click(page, task)
    wait_for_metric(page, "PSNR" if task == "image" else "IoU")


def choose(page, name, label):
    page.locator(f".fields-{name} select").first.select_option(label=label)
    page.wait_for_timeout(300)


def step(page, expected_step=10):
    click(page, "Step")
    return wait_for_metric(page, rf"step {expected_step:,}\b")


def upload(page, name, data, mime="application/octet-stream", selector=".fields-upload input[type=file]"):
    page.locator(selector).first.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def said(page, text, where="upload"):
    """The room's own line beside the input says ``text`` (notifications come and go)."""
    page.locator(f".fields-{where}-status").get_by_text(text).first.wait_for(timeout=TIMEOUT_MS)


def png_bytes(size=40):
    rng = np.random.default_rng(0)
    pixels = (np.linspace(0, 255, size)[None, :, None] * np.ones((size, 1, 3)) + rng.integers(0, 30, (size, size, 3)))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def ply_bytes():
    import trimesh
    return trimesh.creation.box(extents=(1.0, 0.8, 0.6)).export(file_type="ply")


# ---- what a user sees ---------------------------------------------------------------------------
def visible_canvases(page) -> int:
    return sum(1 for c in page.locator(".fields-3d canvas").all() if c.is_visible())


def assert_image_task_shown(page, trained=True):
    """The 2-D panels on show and drawn; no 3-D canvas visible (nor a ghost of one)."""
    assert_drawn(page.locator(".fields-target").first, what="target")
    if trained:
        assert_drawn(page.locator(".fields-recon-0").first, what="reconstruction")
        assert_drawn(page.locator(".fields-error-0").first, what="error map")
    assert visible_canvases(page) == 0, "a 3-D canvas is still on show in the image task"


def assert_shape_task_shown(page):
    page.locator(".fields-3d canvas").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # vtk.js draws the synchronised scene
    assert visible_canvases(page) >= 1
    panes = [p for p in page.locator(".fields-3d").all() if p.is_visible()]
    assert len(panes) == 1, f"{len(panes)} 3-D views on show"
    assert_drawn(panes[0], min_ink=0.01, what="3-D view")
    assert not page.locator(".fields-target").first.is_visible()


def shown_counts(page) -> list[int]:
    return [int(c.replace(",", "")) for c in re.findall(r"\(([\d,]+) parameters\)", metric(page))]


# ---- journeys -----------------------------------------------------------------------------------
def test_first_paint_shows_the_target_dashes_and_only_the_controls_that_apply(page, lab):
    open_room(page, lab)
    assert_drawn(page.locator(".fields-target").first, what="target")
    text = metric(page)
    assert "PSNR —" in text and "loss —" in text and "nan" not in text
    assert shown_counts(page) == [knobs.parameter_count("gnf", 2, 3, knobs.taken("gnf", "image"))]
    assert not page.locator(".fields-top_k").first.is_visible()      # GNF has no top-k
    assert not page.locator(".fields-adaptive").first.is_visible()
    for name in ("n_kernels", "seed"):  # typed numbers, not linear sliders
        assert page.locator(f".fields-{name} input").count() == 1 and page.locator(f".fields-{name} .noUi-handle").count() == 0
    choose(page, "model", "NeuRBF (adaptive kernels)")
    for name in ("top_k", "adaptive"):   # shown once the server has answered the choice
        page.locator(f".fields-{name}").first.wait_for(timeout=TIMEOUT_MS)
    wait_for_metric(page, "NeuRBF")


def test_image_shape_image_and_back_in_several_orders(page, lab):
    open_room(page, lab, SMALL)
    step(page)
    assert_image_task_shown(page)
    choose_task(page, "shape")
    assert_shape_task_shown(page)
    choose_task(page, "image")      # the 2-D panels come back, the 3-D view goes
    assert_image_task_shown(page, trained=False)
    step(page)
    assert_image_task_shown(page)
    choose_task(page, "shape")      # one 3-D view, no ghost of the first
    click(page, "Step")
    wait_for_metric(page, r"IoU [0-9.]+")
    assert_shape_task_shown(page)
    status = page.locator(".task-status").first.bounding_box()  # whole, beside "Full-resolution mesh"
    assert status["x"] + status["width"] <= page.viewport_size["width"]
    page.go_back()                  # Back: the image task again, then Forward: the shape
    wait_for_metric(page, "PSNR")
    assert_image_task_shown(page, trained=False)
    page.go_forward()
    wait_for_metric(page, "IoU")
    assert_shape_task_shown(page)


def test_every_model_trains_and_shows_its_parameter_count(page, lab):
    open_room(page, lab, SMALL)
    for name, family in [(n, f) for n, f in knobs.FAMILIES.items()]:
        choose(page, "model", family.label)
        page.locator(".fields-batch_size input").first.fill("1024")
        page.locator(".fields-batch_size input").first.press("Enter")
        click(page, "Step")
        wait_for_metric(page, rf"\*?\*?{re.escape(knobs.short_label(name))}\b.*step 10\b")
        assert_image_task_shown(page)
        assert shown_counts(page) == [knobs.parameter_count(name, 2, 3, knobs.taken(name, "image"))], name
        assert f"model={name}" in page.url or name == "gnf"


def test_compare_on_and_off_in_both_tasks(page, lab, screenshots):
    open_room(page, lab, "image_size=128&knobs=batch_size:4096&compare_model=grid_mlp&steps=100")
    click(page, "Train")
    page.locator(".task-status").get_by_text("finished").wait_for(timeout=TIMEOUT_MS)
    wait_for_metric(page, r"step 100\b[\s\S]*step 100\b")
    for panel in ("recon-0", "error-0", "recon-1", "error-1"):
        assert_drawn(page.locator(f".fields-{panel}").first, what=panel)
    text = metric(page)
    assert "GNF" in text and "Dense grids + MLP" in text and len(shown_counts(page)) == 2
    page.screenshot(path=str(screenshots / "fields-compare.png"))
    choose(page, "compare_model", "(no comparison)")
    step(page)
    assert not page.locator(".fields-recon-1").first.is_visible()
    choose(page, "compare_model", "SIREN")
    choose_task(page, "shape")
    click(page, "Step")
    wait_for_metric(page, r"SIREN.*IoU [0-9.]+")
    assert_shape_task_shown(page)
    page.locator(".fields-3d-caption").get_by_text("left: GNF").first.wait_for(timeout=TIMEOUT_MS)


def test_uploads_good_corrupt_empty_and_wrong_type(page, lab):
    open_room(page, lab, SMALL)
    upload(page, "ramp.png", png_bytes(), "image/png")
    said(page, "Loaded ramp.png")
    assert page.locator(".fields-image_source select").first.input_value() == "ramp.png"
    assert_image_task_shown(page, trained=False)
    upload(page, "broken.png", b"not really a png", "image/png")
    said(page, "not a readable image")
    upload(page, "empty.ply", b"")
    said(page, "empty.ply is empty")
    upload(page, "notes.txt", b"hello", "text/plain")
    said(page, "notes.txt is not supported")
    upload(page, "box.ply", ply_bytes())
    said(page, "Loaded box.ply")
    wait_for_metric(page, "IoU")
    assert page.locator(".fields-shape_source select").first.input_value() == "box.ply"
    page.locator(".fields-3d-caption").get_by_text("box.ply").first.wait_for(timeout=TIMEOUT_MS)
    assert_shape_task_shown(page)
    step(page)  # the room carries on after the bad files


def test_exports_after_each_task_and_a_checkpoint_loaded_in_the_other_task(page, lab):
    open_room(page, lab, SMALL)
    page.locator(".fields-export-pt").first.click()  # nothing trained yet: said, and no traceback
    page.locator(".notyf").get_by_text("press Train or Step first").first.wait_for(timeout=TIMEOUT_MS)
    step(page)
    assert not page.locator(".fields-export-ply").first.is_visible()  # a mesh is no export of an image
    with page.expect_download(timeout=TIMEOUT_MS) as png:
        page.locator(".fields-export-png").first.click()
    assert Image.open(png.value.path()).size == (64, 64)
    with page.expect_download(timeout=TIMEOUT_MS) as checkpoint:
        page.locator(".fields-export-pt").first.click()
    data = open(checkpoint.value.path(), "rb").read()
    choose_task(page, "shape")
    assert not page.locator(".fields-export-png").first.is_visible()
    click(page, "Step")
    wait_for_metric(page, r"IoU [0-9.]+")
    with page.expect_download(timeout=TIMEOUT_MS) as mesh:
        page.locator(".fields-export-ply").first.click()
    assert open(mesh.value.path(), "rb").read(3) == b"ply"
    upload(page, "image-run.pt", data, selector=".fields-checkpoint-upload input[type=file]")
    said(page, "Loaded checkpoint image-run.pt at step 10", "checkpoint")
    wait_for_metric(page, r"PSNR [0-9.]+ dB.*step 10")
    assert_image_task_shown(page)


def test_a_second_session_beside_the_first(page, lab, browser):
    open_room(page, lab, SMALL)
    other_context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = other_context.new_page()
    guard = PageGuard(other)
    try:
        open_room(other, lab, "task=shape")
        step(page)
        click(other, "Step")
        wait_for_metric(other, r"IoU [0-9.]+")
        assert_shape_task_shown(other)
        assert_image_task_shown(page)
        assert "IoU" not in metric(page) and "PSNR" not in metric(other)
    finally:
        other_context.close()
    guard.check()
