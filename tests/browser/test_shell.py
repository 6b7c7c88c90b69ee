"""The shell in a real browser: home page, navigation, rooms by URL, bad URLs, errors."""
import re

import pytest
from playwright.sync_api import expect

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
    page.guard.check()
    page.screenshot(path=str(screenshots / "home.png"))


@pytest.mark.parametrize("room", ROOMS, ids=[room.slug for room in ROOMS])
def test_room_opens_from_its_url(page, lab_url, screenshots, room):
    open_page(page, f"{lab_url}/lab?room={room.slug}")
    page.locator(f".room-{room.slug}").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)  # let plots finish drawing before the picture
    page.guard.check()
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
    page.guard.expect("status of 404")  # the behaviour under test
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


def test_back_and_forward_move_between_rooms_and_settings(page, demo_lab_url):
    open_page(page, f"{demo_lab_url}/lab")
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Demo room", exact=True).click(timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile(r"room=demo$"), timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)  # a separate step, not merged with the click before
    count = page.locator(".demo-count-to input")
    count.fill("7")
    count.press("Enter")
    page.wait_for_url(re.compile(r"room=demo&count_to=7"), timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Home", exact=True).click()
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)

    page.go_back()   # the room as it was left
    expect(count).to_have_value("7", timeout=TIMEOUT_MS)
    page.go_back()   # before the change: the default again
    expect(count).to_have_value("40", timeout=TIMEOUT_MS)
    page.go_back()   # the home page
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)
    page.go_forward()
    expect(count).to_have_value("40", timeout=TIMEOUT_MS)
    page.go_forward()
    expect(count).to_have_value("7", timeout=TIMEOUT_MS)


def test_an_experiment_opened_from_a_link_runs_to_its_verdict(page, demo_lab_url, tmp_path):
    from benchmarks.browser import wait_drawn
    open_page(page, f"{demo_lab_url}/lab?room=demo&experiment=fair-coin")
    page.get_by_text("Is the coin fair?").wait_for(timeout=TIMEOUT_MS)
    run = page.get_by_role("button", name="Run experiment")
    expect(run).to_be_disabled()                       # a prediction comes first
    page.locator(".experiment-prediction").get_by_text("It is biased").click()
    expect(run).to_be_enabled(timeout=TIMEOUT_MS)
    run.click()
    page.locator(".experiment-verdict").get_by_text("Reproduced", exact=True).wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("You predicted").wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".demo-count-to input").input_value() == "25"   # the room was set up
    page.wait_for_timeout(1000)   # the figure is drawn anew with the verdict, after it
    wait_drawn(page.locator(".experiment-figure").first, what="experiment figure")
    page.screenshot(path=str(tmp_path / "experiment.png"), full_page=True)
    print(tmp_path / "experiment.png")


def test_the_home_page_lists_experiments_and_one_opens_in_its_room(page, demo_lab_url):
    open_page(page, f"{demo_lab_url}/lab")
    page.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)
    page.locator(".experiment-list").get_by_role("button", name="Coins bent-coin").click(timeout=TIMEOUT_MS)
    page.get_by_text("Is the coin fair?").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile(r"room=demo.*experiment=bent-coin"), timeout=TIMEOUT_MS)


def test_presentation_mode_and_copy_link(page, demo_lab_url):
    open_page(page, f"{demo_lab_url}/lab?room=demo&present=1")
    page.get_by_text("Fail on purpose").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("document.body.classList.contains('lab-present')", timeout=TIMEOUT_MS)
    assert page.evaluate("getComputedStyle(document.body).zoom") == "1.3"
    page.locator(".present-toggle").get_by_role("button").click()       # off again
    page.wait_for_function("!document.body.classList.contains('lab-present')", timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile(r"room=demo$"), timeout=TIMEOUT_MS)
    page.locator(".copy-link").get_by_role("button").click()
    page.wait_for_function("window.__labCopiedLink !== undefined", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__labCopiedLink").endswith("/lab?room=demo")


def test_every_error_is_shown_however_far_apart(page, demo_lab_url):
    """Panel 1.9's timed notifications stop appearing once one has expired; the lab's do not."""
    open_page(page, f"{demo_lab_url}/lab?room=demo")
    fail = page.get_by_role("button", name="Fail on purpose")
    for attempt in range(3):
        fail.click(timeout=TIMEOUT_MS)
        page.locator(".notyf").get_by_text("ZeroDivisionError").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(11_000)   # past the message's ten seconds: it is gone
        assert page.locator(".notyf__message").count() == 0


def test_every_room_opened_by_its_name_shows_its_data_in_two_sessions(page, lab_url, browser):
    # Opened by a click (not a link), the worm room never drew its heatmap in a second session:
    # BokehJS threw on updates to widgets it was still building and dropped the rest of them.
    from benchmarks.browser import PageGuard
    from benchmarks.lab import room_ready
    second = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        guard = PageGuard(second)
        for current in (page, second):
            open_page(current, f"{lab_url}/lab")
            current.get_by_text("Pick a room to start").wait_for(timeout=TIMEOUT_MS)
            for room in ROOMS:
                current.get_by_role("button", name=room.title, exact=True).first.click(timeout=TIMEOUT_MS)
                current.wait_for_url(re.compile(rf"room={room.slug}"), timeout=TIMEOUT_MS)
                room_ready(room)(current)
        guard.check()
    finally:
        second.context.close()
