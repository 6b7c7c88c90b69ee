"""The worm room's 3D view is a trame app served through the lab's own server (lab/trame_routes.py):
with the lab behind basic auth (README, 'Serving a class'), its files and its websocket are refused
to anyone not logged in, and served to the student whose page embeds it."""
import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
import urllib.parse
import urllib.request

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from benchmarks.browser import free_port, serve_lab, stop, wait_until_up
from tests.browser.worms_page import TIMEOUT_MS, open_tab, open_worm_room

pytestmark = pytest.mark.slow
PASSWORD = "class-of-2026"


async def first_message(url: str, origin: str, cookie: str | None, wait_s: float = 3.0):
    """What the websocket at ``url`` does: 'refused' (the handshake or the socket refused),
    'open' (accepted and still open after ``wait_s``), or 'message' (something was sent)."""
    headers = {"Origin": origin, **({"Cookie": cookie} if cookie else {})}
    try:
        connection = await websocket_connect(HTTPRequest(url, headers=headers, follow_redirects=False))
    except (HTTPClientError, ConnectionError):
        return "refused"
    try:
        message = await asyncio.wait_for(connection.read_message(), wait_s)
    except asyncio.TimeoutError:
        return "open"   # trame's client speaks first: an accepted socket waits for it
    finally:
        connection.close()
    return "refused" if message is None else "message"


def socket_outcome(url: str, origin: str, cookie: str | None) -> str:
    """``first_message`` on a thread of its own (Playwright's sync API holds this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, first_message(url, origin, cookie)).result()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.timeout(420)
def test_the_3d_view_is_behind_the_labs_basic_auth(browser, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve_lab(port, log_path=tmp_path / "panel.log",
                        extra_args=("--basic-auth", PASSWORD, "--cookie-secret", "a-long-random-secret"))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        wait_until_up(f"{base}/login", process)
        page = context.new_page()
        page.goto(f"{base}/lab?room=worms", timeout=TIMEOUT_MS)
        page.locator("input[name=username]").fill("student")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(re.compile(r"/lab"), timeout=TIMEOUT_MS)
        open_worm_room(page, base)
        open_tab(page, "3D anatomy")
        src = page.locator(".neuron-scene-3d iframe").get_attribute("src")
        key = re.fullmatch(r"/trame/([0-9a-f]{32})/index\.html\?.*", src).group(1)

        student = context.request.get(f"{base}{src}")
        assert student.status == 200 and b"<html" in student.body().lower()   # the trame client
        stranger = urllib.request.build_opener(NoRedirects)
        with pytest.raises(urllib.error.HTTPError) as refused:
            stranger.open(f"{base}{src}", timeout=60)
        assert refused.value.code == 302 and "/login" in refused.value.headers["Location"]

        cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies(base))
        socket = f"ws://127.0.0.1:{port}/trame/{key}/ws"
        assert socket_outcome(socket, base, None) == "refused"
        assert socket_outcome(socket, base, cookie) == "open"
        assert socket_outcome(f"ws://127.0.0.1:{port}/trame/{'0' * 32}/ws", base, cookie) == "refused"  # no such app
    finally:
        context.close()
        stop(process)
        print((tmp_path / "panel.log").read_text()[-5000:])
