"""Fetch the harmonised dataset from its hub into a local cache.

The hub is Hugging Face (dataset ``qsimeon/celegans_neural_data``, MIT). Two endpoints of its
public HTTP interface are used, so any mirror that serves the same paths works (tests use a
local HTTP server on 127.0.0.1; ``file://`` folders work too):

    {base_url}/api/datasets/{dataset_id}                     JSON, "siblings": [{"rfilename"}]
    {base_url}/datasets/{dataset_id}/resolve/{revision}/{f}  the file itself

Offline (no route to the hub) raises ``OfflineError`` saying so; files already in the cache
are kept and reported. Each file is written to a temporary name and renamed when complete.

The hub's listing is not trusted: a listed name is reduced to its base name (``a/b.parquet`` is
cached as ``b.parquet``; ``..``, ``/etc/x`` and empty names are refused with ``EngineError``) and
the final path must lie inside the cache folder.
"""
from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

from engines.errors import EngineError
from engines.files import atomic_path

HUB_URL = "https://huggingface.co"
DATASET_ID = "qsimeon/celegans_neural_data"


class OfflineError(EngineError):
    """The hub cannot be reached (no network, or the mirror is down)."""


def default_cache_dir() -> Path:
    root = os.environ.get("NEURAL_LAB_CACHE") or Path.home() / ".cache" / "neural_lab"
    return Path(root) / "worms" / DATASET_ID.replace("/", "__")


def _open(url: str, timeout: float):
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise EngineError(f"the hub answered {exc.code} for {url}") from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        raise OfflineError(f"cannot reach the dataset hub at {url.split('/api/')[0]} "
                           f"(offline? {getattr(exc, 'reason', exc)}). Neural Lab works offline "
                           "with its simulated default and any files you already have.") from None


def list_remote_files(base_url: str = HUB_URL, dataset_id: str = DATASET_ID,
                      timeout: float = 10.0) -> list[str]:
    """The file names the hub lists for the dataset."""
    with _open(f"{base_url.rstrip('/')}/api/datasets/{dataset_id}", timeout) as response:
        info = json.load(response)
    return [s["rfilename"] for s in info.get("siblings", [])]


def fetch_harmonised(cache_dir=None, base_url: str = HUB_URL, dataset_id: str = DATASET_ID,
                     revision: str = "main", suffixes=(".parquet",), timeout: float = 10.0,
                     progress=None) -> list[Path]:
    """Download the dataset's files (parquet by default) into ``cache_dir``; returns their paths.

    Files already cached are not downloaded again. ``progress(name, index, total)`` is called
    before each file.
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    names = [n for n in list_remote_files(base_url, dataset_id, timeout) if n.endswith(tuple(suffixes))]
    paths = []
    for index, name in enumerate(names):
        if progress:
            progress(name, index, len(names))
        target = cached_path(cache, name)
        if not target.exists():
            url = f"{base_url.rstrip('/')}/datasets/{dataset_id}/resolve/{revision}/{name}"
            _download(url, target, timeout)
        paths.append(target)
    return paths


def cached_path(cache: Path, name: str) -> Path:
    """Where a listed file goes: its base name inside ``cache``, or EngineError for a name that
    is no file name or would land outside the cache."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    if base in ("", ".", "..") or "\x00" in base:
        raise EngineError(f"the hub listed a file named {name!r}, which is not a file name; "
                          "refusing to download it")
    root = cache.resolve()
    target = (root / base).resolve()
    if target.parent != root:
        raise EngineError(f"the hub listed {name!r}, which would be written outside the cache "
                          f"{root}; refusing to download it")
    return target


def _download(url: str, target: Path, timeout: float) -> None:
    with atomic_path(target, suffix=".part") as tmp, open(tmp, "wb") as out, _open(url, timeout) as response:
        while chunk := response.read(1 << 20):
            out.write(chunk)


def cached_files(cache_dir=None) -> list[Path]:
    """Parquet files already in the cache (what works offline)."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    return sorted(cache.rglob("*.parquet")) if cache.exists() else []


def main(argv=None) -> int:
    """``python -m engines.worms.download``: fetch the harmonised dataset into the cache."""
    import argparse

    parser = argparse.ArgumentParser(description="Fetch the harmonised C. elegans dataset into a local cache.")
    parser.add_argument("--cache", help="cache folder (default: $NEURAL_LAB_CACHE or ~/.cache/neural_lab)")
    parser.add_argument("--base-url", default=HUB_URL, help="the hub or a mirror serving the same paths")
    args = parser.parse_args(argv)
    report = lambda name, index, total: print(f"[{index + 1}/{total}] {name}", flush=True)
    try:
        paths = fetch_harmonised(args.cache, base_url=args.base_url, progress=report)
    except EngineError as error:
        cached = cached_files(args.cache)
        print(f"{error}\n{len(cached)} file(s) already in the cache.")
        return 1
    print(f"{len(paths)} file(s) in {paths[0].parent if paths else args.cache or default_cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
