"""Start ``panel serve lab`` as the README does, on a free port, and wait until it answers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_lab(port: int, extra_env: dict | None = None, log_path: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), **(extra_env or {}))
    command = [sys.executable, "-m", "panel", "serve", "lab", "--port", str(port),
               "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
               "--plugins", "lab.not_found", "--index", "lab"]
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 90.0) -> float:
    """Seconds until the server answered ``url``; raises if it died or never answered."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"panel serve exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the lab did not answer {url} within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
