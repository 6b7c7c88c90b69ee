"""A class of students at once: the lab served from this machine, every session working.

    python -m benchmarks.classroom [--quick] [--json PATH] [--dask] [--sessions N] [--browsers B]

Serves the lab as the README does (loopback only), optionally beside a Dask scheduler with two
workers (``--dask``), and opens 30 sessions (10 with ``--quick``): ``--browsers`` of them (4) are
real Chromium pages, the rest light sessions that speak Bokeh's websocket protocol without drawing
(benchmarks/light_session.py). Sessions take the rooms in turn:

- fields: a live run, Train for its own number of steps (100,000 + 5k for session k: more than
  it will reach);
- reservoir: a live run, Run;
  both live rooms' runs are paused by the benchmark LIVE_WINDOW_S after the last run of their
  room started, so that they overlap for several turns of the scheduler (a 2 s slice each: a
  shorter overlap measures where in its turn each run happened to be, not how fairly the turns
  are shared);
- connectome: a finite job, Build tensor (the simulated default, seed k, no factorisation).

Every session then starts its work at once. The benchmark prints the answer time of a new page
(GET /lab, a fresh session each time) while all work (target p95 <= 1 s); each live session's
steps while every live run is going, as a share of the fairest split, per room; how long until
every session's work had started and finished; the finite jobs' queue waits; the peak memory of
the server and of its child processes; errors (target 0: failed runs, dropped sessions, page
errors, tracebacks in the server log); and that every session got its own results (its own step
count, its own seed in the summary).
"""
from __future__ import annotations

import asyncio
import collections
import re
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.browser import PageGuard, free_port, serve_lab, stop, wait_until_up
from benchmarks.light_session import LightSession
from benchmarks.report import Row, parse_args, report

ROOMS = ("fields", "reservoir", "connectome")
FIELDS_STEPS = 100_000     # + 5 per session index: each session's own plan, shown in its status
LIVE_WINDOW_S = 90.0       # the live runs' overlap: several rounds of 2 s turns among ~7 live runs
TIMEOUT_S = 900
ARRIVING_AT_ONCE = 4      # sessions whose pages load at the same time (students arriving)
RESULT_LOOKS = 120         # half a second each: a loaded server draws a finished job's results late
STEPS = re.compile(r"steps ([\d,]+)")


@dataclass
class Session:
    index: int
    room: str
    browser: bool
    own: int                                  # the session's own setting (steps or seed)
    handle: object = None                     # LightSession, or a Playwright page
    clicked_at: float | None = None
    started_at: float | None = None           # first steps done (a finite job: out of the queue)
    finished_at: float | None = None
    queued_seen: str = ""
    share_seen: str = ""
    status: str = ""
    summary: str = ""
    samples: list = field(default_factory=list)   # (seconds since the clicks, steps)
    own_result: bool | None = None
    errors: list = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.room != "connectome"


# ---- one session: set its own parameter, start its work, read its progress -------------------------
async def prepare(session: Session) -> None:
    if session.browser:
        page = session.handle
        if session.room == "fields":
            await page.locator(".fields-steps input").first.fill(str(session.own))
            await page.locator(".fields-steps input").first.press("Enter")
        elif session.room == "connectome":
            seed = page.locator(".connectome-controls .bk-input-group", has_text="Simulation seed").locator("input")
            await seed.first.fill(str(session.own))
            await seed.first.press("Enter")
            await page.get_by_text("Factorise after build").click()
        return
    light = session.handle
    if session.room == "fields":
        await light.set_value(light.find(css_class="fields-steps"), session.own)
    elif session.room == "connectome":
        await light.set_value(light.find(title="Simulation seed"), session.own)
        await light.set_value(light.find(name="Checkbox", label="Factorise after build"), False, attr="active")


START_BUTTON = {"fields": "Train", "reservoir": "Run", "connectome": "Build tensor"}


async def press(session: Session, label: str) -> None:
    if session.browser:
        await session.handle.get_by_role("button", name=label, exact=True).first.click()
    else:
        await session.handle.click(session.handle.find(name="Button", label=label))


# Panel's panes draw inside shadow roots, beside their <style> elements
SHADOW_TEXT = """element => Array.from((element.shadowRoot || element).childNodes)
    .filter(node => !['STYLE', 'LINK'].includes(node.nodeName)).map(node => node.textContent).join(' ')"""


ALL_TEXTS = f"""elements => elements.map({SHADOW_TEXT})"""
STEP_COUNT = "step-count"   # the reservoir's step count, in its regime badge


async def read_status(session: Session) -> tuple[str, str]:
    """The room's status line (the room's own task's, not its Experiments panel's: the one that
    is not idle) with the reservoir's step count added, and the connectome's summary."""
    if session.browser:
        page = session.handle
        statuses = await page.locator(".task-status").evaluate_all(ALL_TEXTS)
        summary = " ".join(await page.locator(".connectome-summary").evaluate_all(ALL_TEXTS))
        badges = await page.locator(f"span.{STEP_COUNT}").evaluate_all("spans => spans.map(s => s.textContent)")
    else:
        statuses = session.handle.texts_of("task-status")
        summary = " ".join(session.handle.texts_of("connectome-summary"))
        badges = session.handle.texts_of(containing=STEP_COUNT)
    busy = [text for text in statuses if text.split() and not text.split()[0].startswith("idle")]
    status = (busy or statuses or [""])[0]
    if session.room == "reservoir" and badges:
        count = re.search(r"([\d,]+) steps", badges[0])
        status += f" · steps {count.group(1)}" if count else ""
    return status, summary


def window_over(sessions: list[Session], room: str, now: float) -> bool:
    """Every run of ``room`` has started and they have all run side by side for LIVE_WINDOW_S."""
    starts = [s.started_at for s in sessions if s.room == room]
    return None not in starts and now >= max(starts) + LIVE_WINDOW_S


async def follow(session: Session, clicks_at: float, sessions: list[Session]) -> None:
    """Poll the session's status line until its work is done (or failed)."""
    while time.perf_counter() - clicks_at < TIMEOUT_S:
        await asyncio.sleep(0.5)
        status, summary = await read_status(session)
        now = time.perf_counter() - clicks_at
        session.status = " ".join(status.split())
        match = STEPS.search(session.status)
        steps = int(match.group(1).replace(",", "")) if match else 0
        session.samples.append((now, steps))
        if "queued" in session.status and not session.queued_seen:
            session.queued_seen = session.status.split("·")[-1].strip()
        seen = [part.strip() for part in session.status.split("·") if "core" in part]
        if seen:
            session.share_seen = seen[0]
        if session.started_at is None and "running" in session.status and (steps > 0 or not session.live):
            session.started_at = now
        if not session.status and now > 120:
            session.errors.append("no status line within 120 s")
            return
        if "failed" in session.status:
            session.errors.append(session.status)
            return
        if session.live and "running" in session.status and window_over(sessions, session.room, now):
            await press(session, "Pause")
        if session.started_at is None and session.status and not any(
                word in session.status for word in ("idle", "queued")):
            session.started_at = now   # it ran between two looks
        done = ("paused" in session.status if session.live else "finished" in session.status)
        if done:
            session.finished_at = now
            for _look in range(RESULT_LOOKS):   # results may reach the page after the status line
                session.summary = " ".join(summary.split())
                session.own_result = own_result(session, steps, summary)
                if session.own_result:
                    break
                await asyncio.sleep(0.5)
                summary = (await read_status(session))[1]
            return
        if not session.browser and session.handle.error:
            session.errors.append(session.handle.error)
            return
    session.errors.append(f"not done within {TIMEOUT_S} s: {session.status}")


def own_result(session: Session, steps: int, summary: str) -> bool:
    if session.room == "fields":   # its own plan, and steps taken toward it
        return steps > 0 and f" / {session.own:,}" in session.status
    if session.room == "connectome":
        return f"seed {session.own}" in summary
    return steps > 0   # the reservoir: its own run advanced (its own step count, in its own badge)


# ---- the class ---------------------------------------------------------------------------------------
async def open_sessions(base: str, sessions: list[Session], playwright) -> list:
    browser = await launch_async(playwright) if any(s.browser for s in sessions) else None
    guards, failed, arriving = [], [], asyncio.Semaphore(ARRIVING_AT_ONCE)

    async def open_one(session: Session):
        async with arriving:
            await open_page(session)

    async def open_page(session: Session):
        if session.browser:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            page = await context.new_page()
            guards.append(PageGuard(page))
            page.on("requestfailed", lambda request: failed.append(f"{request.url} ({request.failure})"))
            await page.goto(f"{base}/lab?room={session.room}", timeout=TIMEOUT_S * 1000)
            await page.locator(f".room-{session.room}").first.wait_for(timeout=TIMEOUT_S * 1000)
            await page.locator(".task-status").first.wait_for(timeout=TIMEOUT_S * 1000)
            session.handle = page
        else:
            session.handle = LightSession(base, session.room)
            await session.handle.open()
    await asyncio.gather(*(open_one(s) for s in sessions))
    return [browser, guards, failed]


async def launch_async(playwright):
    from benchmarks.browser import CHROMIUM, FLAGS
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


async def probe_pages(base: str, until: asyncio.Event, times: list) -> None:
    from tornado.httpclient import AsyncHTTPClient
    client = AsyncHTTPClient(force_instance=True)
    while not until.is_set():
        started = time.perf_counter()
        await client.fetch(f"{base}/lab", request_timeout=120)
        times.append(time.perf_counter() - started)
        await asyncio.sleep(1.0)


async def sample_memory(server_pid: int, until: asyncio.Event, peaks: dict) -> None:
    import psutil
    server = psutil.Process(server_pid)
    while not until.is_set():
        try:
            children = server.children(recursive=True)
            peaks["server"] = max(peaks.get("server", 0), server.memory_info().rss)
            peaks["children"] = max(peaks.get("children", 0), sum(_rss(c) for c in children))
            peaks["processes"] = max(peaks.get("processes", 0), len(children))
        except psutil.Error:
            pass
        await asyncio.sleep(0.5)


def _rss(process) -> int:
    try:
        return process.memory_info().rss
    except Exception:
        return 0


async def run_class(base: str, server_pid: int, sessions: list[Session], log_path: Path) -> dict:
    from playwright.async_api import async_playwright
    async with async_playwright() as playwright:
        opened = time.perf_counter()
        browser, guards, failed = await open_sessions(base, sessions, playwright)
        open_s = time.perf_counter() - opened
        for session in sessions:
            await prepare(session)
        await asyncio.sleep(1.0)   # the settings reach the server before the clicks
        done, page_times, peaks = asyncio.Event(), [], {}
        clicks_at = time.perf_counter()
        for session in sessions:
            await press(session, START_BUTTON[session.room])
            session.clicked_at = time.perf_counter() - clicks_at
        watchers = [asyncio.ensure_future(probe_pages(base, done, page_times)),
                    asyncio.ensure_future(sample_memory(server_pid, done, peaks))]
        await asyncio.gather(*(follow(s, clicks_at, sessions) for s in sessions))
        done.set()
        log_bytes = log_path.stat().st_size
        await asyncio.gather(*watchers, return_exceptions=True)
        problems = [p for guard in guards for p in guard.problems()]
        for session in sessions:
            if not session.browser:
                await session.handle.close()
        if browser is not None:
            await browser.close()
    return {"open_s": open_s, "page_times": page_times, "peaks": peaks, "page_problems": problems,
            "failed_requests": failed,
            "log_bytes": log_bytes}


# ---- figures -------------------------------------------------------------------------------------------
def steps_at(samples: list, t: float) -> float:
    before = [s for s in samples if s[0] <= t]
    return before[-1][1] if before else 0.0


def fairness(sessions: list[Session]) -> dict[str, tuple[float, float, dict]]:
    """Per live room: the fewest steps any of its sessions made while all of them were running,
    over the most (1 = an even split), how long that window was, and each session's steps."""
    out = {}
    for room in ("fields", "reservoir"):
        mine = [s for s in sessions if s.room == room and s.started_at is not None and s.finished_at is not None]
        if len(mine) < 2:
            continue
        start, end = max(s.started_at for s in mine), min(s.finished_at for s in mine)
        if end <= start:
            continue
        made = [steps_at(s.samples, end) - steps_at(s.samples, start) for s in mine]
        out[room] = (min(made) / max(made) if max(made) > 0 else 0.0, end - start,
                     {s.index: int(m) for s, m in zip(mine, made)})
    return out


def server_errors(log_path: Path, until: int) -> int:
    """Tracebacks and ERROR lines the server logged while the class worked (the first ``until``
    bytes: closing thirty websockets at the end makes the server log their writes that failed)."""
    text = log_path.read_bytes()[:until].decode(errors="replace") if log_path.exists() else ""
    return sum(1 for line in text.splitlines() if " ERROR" in line or line.startswith("Traceback"))


def rows_for(sessions: list[Session], result: dict, log_path: Path) -> tuple[list[Row], list[str]]:
    times = sorted(result["page_times"])
    p50 = statistics.median(times) if times else float("nan")
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan")
    started = [s.started_at for s in sessions]
    finished = [s.finished_at for s in sessions]
    all_started = max(started) if None not in started else float("nan")
    all_finished = max(finished) if None not in finished else float("nan")
    finite = [s for s in sessions if not s.live and s.started_at is not None]
    waits = [s.started_at - s.clicked_at for s in finite]
    share = fairness(sessions)
    errors = sum(len(s.errors) for s in sessions) + server_errors(log_path, result["log_bytes"])
    page_problems = len(result["page_problems"])
    own = sum(bool(s.own_result) for s in sessions)
    peaks = result["peaks"]
    n = len(sessions)
    rows = [
        Row("new page answer time p50, all sessions working", p50, "s"),
        Row("new page answer time p95, all sessions working", p95, "s", target="<= 1 s", met=p95 <= 1.0),
        *(Row(f"{room} live runs: fewest/most steps while all ran ({window:.0f} s)", ratio, "ratio",
              target=">= 0.5", met=ratio >= 0.5) for room, (ratio, window, _made) in share.items()),
        Row("until every session's work had started", all_started, "s"),
        Row("until every session's work had finished", all_finished, "s"),
        Row("finite jobs' queue wait, median", statistics.median(waits) if waits else float("nan"), "s"),
        Row("finite jobs' queue wait, longest", max(waits) if waits else float("nan"), "s"),
        Row("peak memory, server process", peaks.get("server", 0) / 2**20, "MB"),
        Row(f"peak memory, its {peaks.get('processes', 0)} child processes (workers)", peaks.get("children", 0) / 2**20, "MB"),
        Row("errors (failed runs, dropped sessions, server tracebacks)", errors, "count",
            target="0", met=errors == 0),
        Row("Chromium page problems (console errors, requests to other hosts)", page_problems, "count",
            target="0", met=page_problems == 0),
        Row("sessions that got their own results", own, f"of {n}", target=f"{n}", met=own == n),
    ]
    notes = [f"{n} sessions ({sum(s.browser for s in sessions)} Chromium pages), rooms in turn: "
             f"{', '.join(ROOMS)}; opened in {result['open_s']:.1f} s; {len(times)} page probes",
             "what students saw: " + "; ".join(sorted({s.share_seen for s in sessions if s.share_seen})[:3]),
             "queue places seen: " + "; ".join(sorted({s.queued_seen for s in sessions if s.queued_seen})[:4])]
    notes += [f"{room}: steps per session (index: steps) while all ran: {made}" for room, (_r, _w, made) in share.items()]
    notes += [f"session {s.index} ({s.room}): {e}" for s in sessions for e in s.errors][:10]
    notes += [f"session {s.index} ({s.room}, own {s.own}) did not show its own result: {s.status} | {s.summary}"
              for s in sessions if s.own_result is False][:10]
    kinds = collections.Counter(result["page_problems"])
    notes += [f"page problem ({count}x): {p}" for p, count in kinds.most_common(8)]
    notes += [f"failed request ({count}x): {url}"
              for url, count in collections.Counter(result["failed_requests"]).most_common(8)]
    return rows, notes


def main(argv=None) -> None:
    def extra(parser):
        parser.add_argument("--sessions", type=int, help="how many sessions (default 30, 10 with --quick)")
        parser.add_argument("--browsers", type=int, default=4, help="how many of them are Chromium pages")
        parser.add_argument("--dask", action="store_true", help="run finite jobs on a local Dask scheduler + 2 workers")
    args = parse_args(__doc__.splitlines()[0], argv, extra)
    n = args.sessions or (10 if args.quick else 30)
    sessions = [Session(k, ROOMS[k % len(ROOMS)], k < args.browsers,
                        own=FIELDS_STEPS + 5 * k if ROOMS[k % len(ROOMS)] == "fields" else k) for k in range(n)]
    logs = Path(tempfile.mkdtemp(prefix="classroom-"))
    with ExitStack() as stack:
        env = {}
        if args.dask:
            from benchmarks.dask_cluster import dask_cluster
            env["NEURAL_LAB_DASK_SCHEDULER"] = stack.enter_context(dask_cluster(2, log_dir=logs))
        port = free_port()
        server = serve_lab(port, env, logs / "panel.log")
        stack.callback(stop, server)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/lab", server)
        result = asyncio.run(run_class(base, server.pid, sessions, logs / "panel.log"))
    rows, notes = rows_for(sessions, result, logs / "panel.log")
    notes.append(f"server log: {logs / 'panel.log'}" + ("; Dask scheduler + 2 workers" if args.dask else ""))
    report(rows, args, f"Classroom: {n} sessions on one machine", notes)


if __name__ == "__main__":
    main()
