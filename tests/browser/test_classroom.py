"""Serving a class, as the README's recipe does it: two server processes share one Dask scheduler
with two workers, and the lab can be put behind Panel's basic auth."""
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack

import pytest

from benchmarks.browser import PageGuard, free_port, serve_lab, stop, wait_until_up
from benchmarks.dask_cluster import dask_cluster, scheduler_report
from tests.browser.conftest import served_lab

TIMEOUT_MS = 120_000


def sweep_ranks_in_the_connectome_room(page, base: str) -> None:
    page.goto(f"{base}/lab?room=connectome", wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.locator(".room-connectome").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Factorise after build").click(timeout=TIMEOUT_MS)   # the tensor only, then sweep
    page.get_by_role("button", name="Build tensor", exact=True).click()
    page.locator(".connectome-summary").get_by_text("35 windows").wait_for(timeout=TIMEOUT_MS)
    page.locator(".task-status").get_by_text("finished").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Sweep ranks", exact=True).click()
    page.locator(".connectome-stage").get_by_text("rank sweep done").wait_for(timeout=TIMEOUT_MS)


@pytest.mark.timeout(600)
def test_two_server_processes_share_one_dask_scheduler_and_its_two_workers(browser, tmp_path_factory):
    logs = tmp_path_factory.mktemp("cluster")
    with ExitStack() as stack:
        address = stack.enter_context(dask_cluster(n_workers=2, log_dir=logs))
        env = {"NEURAL_LAB_DASK_SCHEDULER": address}
        bases = [stack.enter_context(served_lab_context(tmp_path_factory, env)) for _ in range(2)]
        pages = []
        for base in bases:
            page = stack.enter_context(_context(browser)).new_page()
            page.guard = PageGuard(page)
            pages.append((page, base))
        for page, base in pages:
            sweep_ranks_in_the_connectome_room(page, base)
        report = scheduler_report(address, "fit_and_score")
        for page, _ in pages:
            page.guard.check()
    assert len(report["clients"]) == 2, report          # one client per server process
    assert len({key.split("-")[3] for key in report["clients"]}) == 2   # two process ids
    ran = report["per_worker"]
    assert len(ran) == 2 and all(count > 0 for count in ran.values()), ran   # both workers worked
    assert sum(ran.values()) == 2 * 4 * 2               # 2 rooms x ranks 2..5 x 2 restarts


def served_lab_context(tmp_path_factory, env):
    from contextlib import contextmanager
    return contextmanager(served_lab)(tmp_path_factory, env)


def _context(browser):
    from contextlib import contextmanager

    @contextmanager
    def opened():
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()
    return opened()


@pytest.mark.timeout(180)
def test_basic_auth_refuses_a_wrong_password_and_admits_the_right_one(tmp_path):
    import http.cookiejar
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve_lab(port, log_path=tmp_path / "panel.log",
                        extra_args=("--basic-auth", "class-of-2026", "--cookie-secret", "a-long-random-secret"))
    try:
        wait_until_up(f"{base}/login", process)

        def browser_like():
            return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        def log_in(opener, password):
            form = urllib.parse.urlencode({"username": "student", "password": password}).encode()
            return opener.open(f"{base}/login", data=form, timeout=60)

        stranger = browser_like()
        assert "/login" in stranger.open(f"{base}/lab", timeout=60).url      # sent to the login page
        refused = log_in(stranger, "guess")
        assert "Invalid username or password" in urllib.parse.unquote_plus(refused.url)
        assert "/login" in stranger.open(f"{base}/lab?room=fields", timeout=60).url   # still outside
        student = browser_like()
        admitted = log_in(student, "class-of-2026")
        page = student.open(f"{base}/lab", timeout=60)
        assert "/login" not in admitted.url and "/login" not in page.url and page.status == 200
        assert b"Neural Lab" in page.read()
    finally:
        stop(process)
