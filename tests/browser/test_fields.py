"""The neural fields room in a real browser: train an image, train a shape, upload a bad file."""
import io
import re
import time

import numpy as np
from PIL import Image

TIMEOUT_MS = 90_000
PSNR_BAR = 25.0


def open_room(page, lab_url):
    page.goto(f"{lab_url}/lab?room=fields", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-fields").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".fields-metric").first.wait_for(timeout=TIMEOUT_MS)


def shown_metric(page, name: str) -> float | None:
    text = page.locator(".fields-metric p").first.inner_text()  # the text lives in a shadow root
    found = re.search(rf"{name} ([0-9.]+)", text)
    return float(found.group(1)) if found else None


def wait_for_metric(page, name: str, bar: float, timeout_s: float = 90) -> float:
    start, value = time.time(), None
    while time.time() - start < timeout_s:
        value = shown_metric(page, name)
        if value is not None and value >= bar:
            return value
        page.wait_for_timeout(500)
    raise AssertionError(f"{name} shown was {value}, never reached {bar}")


def test_image_trains_until_the_shown_psnr_passes_a_bar(page, lab_url, screenshots):
    open_room(page, lab_url)
    page.get_by_role("button", name="Train", exact=True).first.click(timeout=TIMEOUT_MS)
    psnr = wait_for_metric(page, "PSNR", PSNR_BAR)
    assert psnr >= PSNR_BAR
    page.locator(".task-status").get_by_text("finished").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert page.console_errors == []
    page.screenshot(path=str(screenshots / "fields-image.png"))


def test_analytic_shape_trains_until_a_mesh_is_shown(page, lab_url, screenshots):
    open_room(page, lab_url)
    page.get_by_role("button", name="shape", exact=True).first.click(timeout=TIMEOUT_MS)
    page.locator(".fields-metric").get_by_text("IoU").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Train", exact=True).first.click(timeout=TIMEOUT_MS)
    wait_for_metric(page, "IoU", 0.5)
    page.get_by_role("button", name="Pause", exact=True).first.click()  # hold the scene still
    canvas = page.locator(".fields-3d canvas").first
    canvas.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)
    pixels = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("L"), float)
    assert pixels.std() > 5, "the 3-D canvas is blank"
    assert page.console_errors == []
    page.screenshot(path=str(screenshots / "fields-shape.png"))


def test_bad_upload_is_reported_and_the_room_stays_usable(page, lab_url):
    open_room(page, lab_url)
    page.locator(".room-fields input[type=file]").first.set_input_files(
        files=[{"name": "broken.png", "mimeType": "image/png", "buffer": b"not really a png"}])
    page.locator(".notyf").get_by_text("not a readable image").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Step", exact=True).first.click()
    page.locator(".fields-metric").get_by_text("step 10").wait_for(timeout=TIMEOUT_MS)
