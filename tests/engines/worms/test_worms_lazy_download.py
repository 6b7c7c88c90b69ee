import functools
import http.server
import json
import socket
import threading

import numpy as np
import pandas as pd
import pytest

from engines.worms import LazyCollection, OfflineError, fetch_harmonised, long_table, load
from engines.worms.download import cached_files
from engines.worms.heatmap import heatmap_aggregate, trace_image_source
from tests.engines.worms.test_worms_formats import _harmonised_rows

DATASET = "qsimeon/celegans_neural_data"


def _write_npz(folder, name, n_time, labels, value):
    np.savez(folder / f"{name}.npz", time=np.arange(n_time) * 0.5,
             traces=np.full((n_time, len(labels)), value), labels=np.array(labels))


def test_lazy_folder_reads_only_on_access(tmp_path):
    _write_npz(tmp_path, "a", 4, ["AVAL", "AVAR"], 1.0)
    _write_npz(tmp_path, "b", 6, ["AVAL"], 2.0)
    lazy = LazyCollection(tmp_path)
    assert lazy.names() == ["a", "b"] and len(lazy) == 2
    assert lazy._load.cache_info().currsize == 0  # listing read no traces
    assert lazy["b"].traces.shape == (6, 1)
    assert lazy._load.cache_info().currsize == 1
    assert lazy.collection().shared_neurons() == ["AVAL"]


def test_lazy_parquet_reads_one_worm(tmp_path):
    path = tmp_path / "data.parquet"
    _harmonised_rows().to_parquet(path)
    lazy = LazyCollection(path)
    assert lazy.names() == ["Kato2015/worm0", "Kato2015/worm1"]
    assert lazy["Kato2015/worm1"].labels == ["AVAL", "RIML"]


def test_long_table_and_datashader_aggregate(tmp_path):
    _write_npz(tmp_path, "a", 4, ["AVAL", "AVAR"], 1.0)
    _write_npz(tmp_path, "b", 6, ["AVAL"], 3.0)
    frame = long_table(LazyCollection(tmp_path))
    assert frame.npartitions == 2
    table = frame.compute()
    assert len(table) == 4 * 2 + 6
    means = table.groupby("worm")["value"].mean()
    assert means["a"] == 1.0 and means["b"] == 3.0
    assert set(table["neuron"]) == {"AVAL", "AVAR"}
    # heatmap aggregation: mean per pixel equals the block mean
    traces = np.repeat(np.arange(4.0)[None, :], 100, axis=0)  # column k holds the value k
    img = heatmap_aggregate(trace_image_source(traces, np.arange(100.0)), (0, 99), width=10, height=4)
    np.testing.assert_allclose(np.asarray(img).mean(axis=1), [0, 1, 2, 3])


def _fake_hub(root, files):
    api = root / "api" / "datasets" / DATASET
    api.parent.mkdir(parents=True)
    api.write_text(json.dumps({"id": DATASET, "siblings": [{"rfilename": f} for f in files]}))
    store = root / "datasets" / DATASET / "resolve" / "main"
    store.mkdir(parents=True)
    return store


@pytest.fixture
def hub(tmp_path):
    root = tmp_path / "hub"
    store = _fake_hub(root, ["README.md", "data/part0.parquet"])
    (store / "README.md").write_text("card")
    (store / "data").mkdir()
    _harmonised_rows().to_parquet(store / "data" / "part0.parquet")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_fetch_from_local_hub(tmp_path, hub):
    url, _ = hub
    cache = tmp_path / "cache"
    seen = []
    paths = fetch_harmonised(cache_dir=cache, base_url=url, progress=lambda *a: seen.append(a))
    assert [p.relative_to(cache).as_posix() for p in paths] == ["part0.parquet"]  # base names only
    assert seen == [("data/part0.parquet", 0, 1)]
    assert load(paths[0]).names() == ["Kato2015/worm0", "Kato2015/worm1"]
    assert cached_files(cache) == paths
    assert not list(cache.rglob("*.part"))


def test_a_hostile_listing_writes_only_base_names_inside_the_cache(tmp_path, monkeypatch):
    from engines.worms import download
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = tmp_path / "cache"
    names = ["../escape.parquet", str(outside / "absolute.parquet"), "a/../../up.parquet", "ok.parquet"]
    monkeypatch.setattr(download, "list_remote_files", lambda *a: names)
    monkeypatch.setattr(download, "_download", lambda url, target, timeout: target.write_bytes(b"x"))
    paths = download.fetch_harmonised(cache_dir=cache, base_url="http://127.0.0.1:9")
    assert sorted(p.name for p in paths) == ["absolute.parquet", "escape.parquet", "ok.parquet", "up.parquet"]
    assert all(p.parent == cache.resolve() for p in paths)
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape.parquet").exists()


@pytest.mark.parametrize("name", ["..", "dir/", "x/..", ""])
def test_a_listed_name_that_is_no_file_name_is_refused(tmp_path, monkeypatch, name):
    from engines.errors import EngineError
    from engines.worms import download
    monkeypatch.setattr(download, "list_remote_files", lambda *a: [name])
    monkeypatch.setattr(download, "_download", lambda url, target, timeout: target.write_bytes(b"x"))
    with pytest.raises(EngineError, match="not a file name; refusing to download it"):
        download.fetch_harmonised(cache_dir=tmp_path / "cache", base_url="http://127.0.0.1:9", suffixes=("",))


def test_a_cached_link_pointing_outside_is_refused(tmp_path, monkeypatch):
    from engines.errors import EngineError
    from engines.worms import download
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "part.parquet").symlink_to(tmp_path / "elsewhere.parquet")
    monkeypatch.setattr(download, "list_remote_files", lambda *a: ["part.parquet"])
    with pytest.raises(EngineError, match="would be written outside the cache"):
        download.fetch_harmonised(cache_dir=cache, base_url="http://127.0.0.1:9")


def test_fetch_from_file_mirror(tmp_path, hub):
    _, root = hub
    paths = fetch_harmonised(cache_dir=tmp_path / "c2", base_url=root.as_uri())
    assert len(paths) == 1 and paths[0].stat().st_size > 0


def test_offline_says_so(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OfflineError, match="offline"):
        fetch_harmonised(cache_dir=tmp_path, base_url=f"http://127.0.0.1:{port}", timeout=2)


def test_heatmap_pyramid_matches_direct_aggregate():
    from engines.worms.heatmap import HeatmapPyramid
    rng = np.random.default_rng(0)
    traces = np.repeat(rng.standard_normal((250, 3)), 64, axis=0)  # constant within 64-blocks
    time = np.arange(traces.shape[0], dtype=float)
    pyramid = HeatmapPyramid(traces, time, factor=4, min_len=100)
    assert len(pyramid.levels) >= 3
    full = (time[0] - 0.5, time[-1] + 0.5)
    coarse = pyramid.aggregate(full, width=250, height=3, min_per_pixel=2)
    direct = heatmap_aggregate(trace_image_source(traces, time), full, width=250, height=3)
    np.testing.assert_allclose(np.asarray(coarse), np.asarray(direct), atol=1e-5)


def test_download_command_fetches_and_says_when_offline(tmp_path, hub, capsys):
    from engines.worms.download import main

    url, _ = hub
    assert main(["--cache", str(tmp_path / "cache"), "--base-url", url]) == 0
    assert "[1/1] data/part0.parquet" in capsys.readouterr().out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["--cache", str(tmp_path / "cache"), "--base-url", f"http://127.0.0.1:{port}"]) == 1
    out = capsys.readouterr().out
    assert "offline" in out and "1 file(s) already in the cache" in out
