"""The lab's one upload limit, served as the README serves it: uploads larger than Bokeh's 20 MB
websocket default reach the room, and one over the limit gets a message that names the limit."""
import pytest

from tests.browser.conftest import served_lab

TIMEOUT_MS = 90_000
MB = 2**20


@pytest.fixture(scope="module")
def limited_lab_url(tmp_path_factory):
    yield from served_lab(tmp_path_factory, {"NEURAL_LAB_UPLOAD_MB": "25"})


def upload(page, name: str, size: int) -> None:
    page.locator(".connectome-controls input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": b"\0" * size}])


def notice(page, text: str):
    return page.locator(".notyf__message", has_text=text)


@pytest.mark.timeout(240)
def test_uploads_reach_the_room_up_to_the_limit_and_past_it_are_refused_by_name(page, limited_lab_url):
    page.goto(f"{limited_lab_url}/lab?room=connectome", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-connectome").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".connectome-controls select").first.select_option("upload")
    upload(page, "junk.npz", 22 * MB)  # 29 MB on the websocket: over Bokeh's default cap
    notice(page, "junk.npz: field '(file)': is not a NumPy .npz archive").wait_for(timeout=TIMEOUT_MS)
    upload(page, "huge.npz", 30 * MB)
    notice(page, "huge.npz is 30.0 MB; uploads to this lab are limited to 25 MB").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("up to 25 MB").first.wait_for(timeout=TIMEOUT_MS)   # said beside the widget too
