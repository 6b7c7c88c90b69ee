"""The shell in a real browser: home page, navigation, rooms by URL, bad URLs, errors."""
import re

import pytest

from lab.rooms import ROOMS

TIMEOUT_MS = 60_000


def open_page(page, url):
    page.goto(url, wait_until="domcontentloaded", timeout=TIMEOUT_MS)


def test_home_page_lists_every_room(page, lab_url, screenshots):
    open_page(page, f"{lab_url}/lab")
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)
    for room in ROOMS:
        page.get_by_role("button", name=f"Open {room.title}").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert page.console_errors == []
    page.screenshot(path=str(screenshots / "home.png"))


@pytest.mark.parametrize("room", ROOMS, ids=[room.slug for room in ROOMS])
def test_room_opens_from_its_url(page, lab_url, screenshots, room):
    open_page(page, f"{lab_url}/lab?room={room.slug}")
    page.locator(f".room-{room.slug}").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)  # let plots finish drawing before the picture
    assert page.console_errors == []
    page.screenshot(path=str(screenshots / f"{room.slug}.png"))


def test_sidebar_navigation_puts_the_room_in_the_url(page, demo_lab_url):
    open_page(page, f"{demo_lab_url}/lab")
    page.get_by_role("button", name="Demo room", exact=True).click(timeout=TIMEOUT_MS)
    page.get_by_text("Fail on purpose").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile(r"room=demo"), timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Home", exact=True).click()
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)


def test_unknown_room_gets_a_friendly_page(page, lab_url):
    open_page(page, f"{lab_url}/lab?room=no-such-room")
    page.get_by_text("There is no room called").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("link", name="Back to the lab's home page").click()
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)


def test_bad_url_gets_a_friendly_page(page, lab_url):
    response = page.goto(f"{lab_url}/no/such/page", timeout=TIMEOUT_MS)
    assert response.status == 404
    assert "There is no page at" in page.content()
    page.get_by_role("link", name="Go to the lab's home page").click()
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)


def test_callback_error_is_shown_and_the_session_goes_on(page, demo_lab_url):
    open_page(page, f"{demo_lab_url}/lab?room=demo")
    page.get_by_role("button", name="Fail on purpose").click(timeout=TIMEOUT_MS)
    page.get_by_text("Something went wrong (ZeroDivisionError").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Start counting").click()
    page.locator(".task-status").get_by_text("finished").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("steps 40 / 40").wait_for(timeout=TIMEOUT_MS)


def test_background_failure_is_notified(page, demo_lab_url):
    open_page(page, f"{demo_lab_url}/lab?room=demo")
    page.get_by_role("button", name="Diverge in the background").click(timeout=TIMEOUT_MS)
    page.locator(".notyf").get_by_text("loss became NaN").wait_for(timeout=TIMEOUT_MS)
    page.locator(".task-status").get_by_text("failed").wait_for(timeout=TIMEOUT_MS)
