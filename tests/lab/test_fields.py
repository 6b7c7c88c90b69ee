"""The fields room's model without a browser: parameters reach the engine, actions change state."""
import io
import re
import time

import numpy as np
import pytest
import torch
from PIL import Image

from engines.errors import InvalidInputError
from engines.fields.devices import resolve_device
from engines.fields.rbf import GNF, NeuRBF
from lab.fields import FieldsRoom
from lab.fields.run import FieldConfig, FieldRun
from lab.fields.targets import image_target
from tests.lab.polling import wait_for

torch.set_num_threads(1)


def wait_until_done(room, timeout=60):
    wait_for(lambda: not room.background.is_alive, timeout)


@pytest.fixture
def room():
    room = FieldsRoom(image_size=48, steps=60, batch_size=1024)
    yield room
    room.close()


def png_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_opening_the_room_starts_no_process_but_has_its_target(room):
    assert room.process.worker.pid is None and room.snapshot is None
    assert room.target.image.shape[:2] == (48, 48) and room.target_name == "astronaut"
    room.reset()
    assert room.process.worker.pid is None  # nothing to rebuild before the first Train
    room.step(2)
    assert room.process.worker.alive and room.snapshot.step == 2


def test_parameters_reach_the_engine(room):
    room.param.update(model="neurbf", n_kernels=64, top_k=3, grid_levels=2, grid_resolution=32)
    field = room.field()
    assert isinstance(field, NeuRBF)
    assert field.rbf.centres.shape == (64, 2) and field.rbf.top_k == 3
    room.param.update(model="gnf", n_kernels=12)
    room.reset()
    assert isinstance(room.field(), GNF) and room.field().rbf.centres.shape[0] == 12


def test_closing_the_session_stops_training_and_its_worker_process():
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    doc = Document()
    with set_curdoc(doc):
        room = FieldsRoom(image_size=32, steps=100_000, batch_size=256)
    room.train()
    wait_for(lambda: room.background.steps_done > 0, 30)
    process = room.process.worker._process
    for callback in list(doc.session_destroyed_callbacks):
        callback(None)
    wait_until_done(room)
    process.join(10)
    assert room.background.state == "stopped" and not process.is_alive()


def test_training_raises_psnr_and_finishes(room):
    room.step(1)
    before = room.snapshot.psnr
    room.train()
    wait_until_done(room)
    assert room.background.state == "finished" and room.background.steps_done == 60
    assert room.snapshot.step == 61
    assert room.snapshot.psnr > before + 8  # a 48 px image is learnt quickly


def test_pause_resume_and_reset(room):
    room.steps = 100_000
    room.train()
    wait_for(lambda: room.background.steps_done > 0, 30)
    room.pause()
    assert room.background.state == "paused"
    time.sleep(0.4)  # the chunk in flight (~50 ms of steps) finishes
    paused_at = room.runs()[0].steps_done
    time.sleep(0.4)
    assert room.runs()[0].steps_done == paused_at
    wait_for(lambda: room.snapshot.step == paused_at, 10)  # the page shows where it stopped
    room.train()  # Train while paused resumes
    assert room.background.state == "running"
    room.reset()   # the runs are gone: so is their progress (the status line starts again)
    assert room.background.state == "idle" and room.background.steps_done == 0 and room.snapshot is None
    assert not room.background.is_alive
    room.step(1)
    assert room.snapshot.step == 1 and room.runs()[0].steps_done == 1


def test_step_advances_and_learning_rate_applies_live(room):
    room.step(5)
    assert room.snapshot.step == 5
    room.learning_rate = 0.003
    assert room.runs()[0].learning_rate == pytest.approx(0.003)


def test_architecture_change_rebuilds_at_train(room):
    room.step(3)
    room.model = "grid_mlp"
    room.steps = 2
    room.train()
    wait_until_done(room)
    assert room.runs()[0].config.model == "grid_mlp" and room.snapshot.step == 2


def test_bad_upload_keeps_previous_target_and_model(room):
    room.step(4)
    target, runs = room.target, room.runs()
    with pytest.raises(InvalidInputError, match="not a readable image"):
        room.upload(b"this is not a png", "broken.png")
    with pytest.raises(InvalidInputError, match="not supported"):
        room.upload(b"abc", "notes.txt")
    with pytest.raises(InvalidInputError):
        room.upload(b"solid 0\nendsolid\n", "empty.stl")
    with pytest.raises(InvalidInputError, match="empty.ply is empty"):
        room.upload(b"", "empty.ply")
    assert room.target is target and room.runs() == runs and room.snapshot.step == 4


def test_upload_png_becomes_the_target_and_a_named_source(room):
    pixels = (np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8)
    room.upload(png_bytes(pixels), "noise.png")
    assert room.target_name == room.image_source == "noise.png"
    assert room.target.image.shape[:2] == (32, 48)  # resized to image_size on the long side
    room.image_source = "camera"
    room.image_source = "noise.png"  # the upload stays among the sources
    assert room.target.image.shape[:2] == (32, 48)


def test_divergence_fails_the_task_and_restores_weights(room):
    room.param.update(model="grid_mlp", steps=20)
    room.step(30)
    room.learning_rate = 1.0  # grids + MLP blow up at this rate (the loss grows > 1e4x)
    room.train()
    wait_until_done(room)
    assert room.background.state == "failed" and "loss became" in room.background.error
    restored_step = int(re.search(r"restored the state of step (\d+)", room.background.error).group(1))
    assert 30 <= restored_step < 50
    assert room.runs()[0].steps_done == room.snapshot.step == restored_step  # and it is shown
    assert np.isfinite(room.snapshot.loss)
    assert all(torch.isfinite(value).all() for value in room.field().state_dict().values())


def test_checkpoint_round_trip_continues_training_in_the_other_task(room):
    room.step(8)
    data = room.checkpoint_bytes()
    fresh = FieldsRoom(task="shape", steps=5)
    try:
        fresh.load_checkpoint(data, "mine.pt")
        assert fresh.task == "image" and fresh.image_source == "mine.pt" and fresh.snapshot.step == 8
        assert fresh.batch_size == 1024 and fresh.knobs == "batch_size:1024"
        assert fresh.snapshot.psnr == pytest.approx(room.snapshot.psnr, abs=1e-4)
        fresh.step(2)
        assert fresh.snapshot.step == 10
        with pytest.raises(InvalidInputError, match="not a fields room checkpoint"):
            fresh.load_checkpoint(b"garbage")
        assert fresh.snapshot.step == 10
    finally:
        fresh.close()


def test_exports_refuse_the_wrong_task_and_an_untrained_field(room):
    with pytest.raises(InvalidInputError, match="press Train or Step first"):
        room.reconstruction_png()
    with pytest.raises(InvalidInputError, match="press Train or Step first"):
        room.checkpoint_bytes()
    room.step(3)
    image = np.asarray(Image.open(io.BytesIO(room.reconstruction_png())))
    assert image.shape[:2] == room.snapshot.reconstruction.shape[:2]
    with pytest.raises(InvalidInputError, match="mesh export is for the shape task"):
        room.mesh_bytes("ply")


def test_compare_trains_two_models_step_for_step_each_with_its_recipe(room):
    from engines.fields.registry import recipe
    room.param.update(compare_model="siren", steps=20)
    room.train()
    wait_until_done(room)
    assert room.rival_snapshot is not None
    assert room.rival_snapshot.step == room.snapshot.step == 20
    model, rival = room.runs()
    assert [model.config.model, rival.config.model] == ["gnf", "siren"]
    assert model.learning_rate == pytest.approx(recipe("gnf", "image").lr)
    assert rival.learning_rate == pytest.approx(recipe("siren", "image").lr)  # not GNF's: SIREN would learn nothing


def test_compare_can_hold_training_time_equal(room):
    room.param.update(compare_model="siren", compare_pace="time", steps=40)
    room.train()
    wait_until_done(room)
    model, rival = room.runs()
    assert model.steps_done == 40 and rival.steps_done != model.steps_done  # SIREN's steps cost more
    assert rival.train_time == pytest.approx(model.train_time, rel=0.5, abs=0.3)


def test_each_model_takes_its_declared_tuned_defaults(room):
    from engines.fields.registry import FAMILIES, defaults
    for name in FAMILIES:
        for task in ("image", "shape"):
            room.param.update(model=name, task=task)
            assert {k: getattr(room, k) for k in defaults(name, task)} == defaults(name, task)
            assert room.knobs == ""
    room.param.update(model="gnf", task="image")
    assert room.learning_rate == FAMILIES["gnf"].recipe("image").lr
    room.step(1)
    assert room.runs()[0].learning_rate == pytest.approx(FAMILIES["gnf"].recipe("image").lr)


def test_changed_knobs_travel_as_text_and_come_back(room):
    room.model = "neurbf"
    room.n_kernels = 128
    assert room.knobs == "n_kernels:128"
    room.model = "gnf"  # a new model starts from its own defaults
    assert room.knobs == "" and room.n_kernels == 64
    other = FieldsRoom(model="neurbf", knobs="n_kernels:96,top_k:2,width:5")
    try:
        assert (other.n_kernels, other.top_k) == (96, 2) and other.knobs == "n_kernels:96,top_k:2"
        assert "width" in other.notice  # neurbf has no width: said, not used
        with __import__("param").parameterized.batch_call_watchers(other):  # as the shell restores a URL
            other.model, other.knobs = "grid_mlp", "grid_resolution:40"
        assert other.grid_resolution == 40 and other.grid_levels == 4
    finally:
        other.close()


def test_knobs_apply_only_to_models_that_take_them(room):
    assert room.applies("n_kernels") and not room.applies("top_k") and not room.applies("adaptive")
    room.model = "neurbf"
    assert room.applies("top_k") and room.applies("adaptive") and not room.applies("width")


def test_parameter_counts_shown_are_the_fields_counts(room):
    room.param.update(compare_model="grid_mlp")
    wait_for(lambda: len(room.planned) == 2, 30)
    planned = [p.parameters for p in room.planned]
    assert planned == [room.field(0).param_count, room.field(1).param_count]


def test_a_parameter_budget_sizes_both_models(room):
    room.param.update(compare_model="siren", same_budget=True, parameter_budget=20_000)
    wait_for(lambda: len(room.planned) == 2 and all(p.fitted for p in room.planned), 30)
    counts = [p.parameters for p in room.planned]
    assert all(15_000 < c <= 20_000 for c in counts)
    assert [room.field(i).param_count for i in range(2)] == counts


def test_too_large_a_field_is_refused_by_name(room):
    room.param.update(model="grid_mlp", grid_resolution=4096, grid_levels=16, grid_channels=16)
    with pytest.raises(InvalidInputError, match="parameters; this lab trains fields of up to"):
        room.step(1)


def test_gnf_units_are_drawn_where_they_contribute_most(room):
    room.step(5)
    units = room.snapshot.kernels
    assert units["kind"] == "units" and units["unit_map"].shape == room.snapshot.error.shape
    assert units["unit_map"].min() >= 0 and units["unit_map"].max() < units["total"] == room.n_kernels
    assert units["share"].sum() == pytest.approx(1.0)


def test_neurbf_kernels_and_kmeans_weights_in_snapshot(room):
    room.param.update(model="neurbf", n_kernels=64, grid_resolution=32)
    room.step(1)
    kernels = room.snapshot.kernels
    assert kernels["kind"] == "ellipses"
    assert kernels["centres"].shape == (64, 2) and kernels["shapes"].shape == (64, 2, 2)
    assert room.snapshot.init_weights.shape == room.snapshot.error.shape
    assert np.all(np.abs(kernels["centres"]) <= 1.0 + 1e-6)


@pytest.mark.slow
def test_shape_task_learns_a_torus_and_exports_a_mesh():
    room = FieldsRoom(task="shape", shape_source="torus", steps=150, batch_size=2048,
                      grid_resolution=32, preview_resolution=24, full_resolution=32)
    try:
        assert room.grid_resolution == 32
        room.train()
        wait_until_done(room, timeout=120)
        shot = room.snapshot
        assert room.background.state == "finished"
        assert shot.iou > 0.5 and len(shot.faces) > 0 and shot.distance.shape == (len(shot.vertices),)
        assert shot.slice_values.shape == (96, 96)
        ply = room.mesh_bytes("ply")
        assert ply.startswith(b"ply")
        with pytest.raises(InvalidInputError, match="PNG export is for the image task"):
            room.reconstruction_png()
    finally:
        room.close()


def test_field_run_is_deterministic_under_a_seed():
    target = image_target("camera", 24)
    losses = [FieldRun(target, FieldConfig("grid_mlp", grid_resolution=16, seed=3), 1e-2, 256).step(5)
              for _ in range(2)]
    assert losses[0] == losses[1]


def test_huge_images_are_refused_before_decoding(room, monkeypatch):
    import lab.fields.targets as targets
    monkeypatch.setattr(targets, "MAX_PIXELS", 100)
    pixels = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(InvalidInputError, match="megapixels"):
        room.upload(png_bytes(pixels), "big.png")
    assert room.target_name == "astronaut"


def test_uploads_and_checkpoints_over_the_lab_limit_are_refused_by_name(room, monkeypatch):
    monkeypatch.setenv("NEURAL_LAB_UPLOAD_MB", "0.001")  # 1 KB
    pixels = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    with pytest.raises(InvalidInputError, match=r"noise.png is [0-9]+ KB; uploads to this lab are limited to 0.001 MB"):
        room.upload(png_bytes(pixels), "noise.png")
    with pytest.raises(InvalidInputError, match="the checkpoint is .* limited to 0.001 MB"):
        room.load_checkpoint(b"\0" * 2048)
    assert room.target_name == "astronaut"


def test_adaptive_kernels_toggle_live(room):
    room.param.update(model="neurbf", n_kernels=32, grid_resolution=16)
    assert not room.field().rbf.adaptive
    room.adaptive = True
    assert room.field().rbf.adaptive
    before = room.field().rbf.centres.detach()
    room.step(3)
    assert not torch.equal(before, room.field().rbf.centres.detach())  # kernels moved


@pytest.mark.slow
def test_mesh_uploads_train_name_the_source_and_non_watertight_meshes_get_a_notice(room):
    import trimesh
    box = trimesh.creation.box(extents=(1.0, 0.8, 0.6))
    room.upload(box.export(file_type="stl"), "box.stl")
    assert room.task == "shape" and room.target_name == room.shape_source == "box.stl" and room.notice == ""
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-2], process=False)
    room.upload(open_box.export(file_type="ply"), "open.ply")
    assert "not watertight" in room.notice and room.shape_source == "open.ply"
    room.step(3)
    assert room.snapshot.step == 3 and room.snapshot.iou >= 0.0


def test_batch_size_applies_live_and_runs_drive_the_engine_trainer(room):
    room.step(1)
    room.batch_size = 256
    assert room.runs()[0].batch_size == 256
    room.step(2)
    assert room.runs()[0].history_steps == [1, 2, 3]  # the engine Trainer's history


def test_a_checkpoint_that_would_run_code_is_refused(room):
    import pickle

    class Exploit:
        def __reduce__(self):
            return (exec, ("raise SystemExit('ran code from an upload')",))

    with pytest.raises(InvalidInputError, match="not a fields room checkpoint"):
        room.load_checkpoint(pickle.dumps({"format": "neural-lab-fields/2", "x": Exploit()}, protocol=2))
    assert room.snapshot is None


def test_device_parameter_reaches_the_trainer(room, monkeypatch):
    assert room.device == "cpu"
    room.step(1)
    assert room.runs()[0].device == "cpu"
    assert ("cuda" in room.param.device.objects) == torch.cuda.is_available()
    room.param.update(device="auto")  # the worker sees the same devices as this process
    room.reset()
    room.step(3)
    assert room.snapshot.step == 3 and room.runs()[0].device == str(resolve_device("auto"))
    data = room.checkpoint_bytes()
    target = image_target("camera", 24)
    config = FieldConfig("grid_mlp", grid_resolution=16, seed=3)
    if torch.cuda.is_available():  # "auto" would take the GPU; compare CPU choices here
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    losses = [FieldRun(target, config, 1e-2, 256, device).step(5) for device in ("cpu", "auto")]
    assert losses[0] == losses[1] == FieldRun(target, config, 1e-2, 256).step(5)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        FieldRun(target, config, 1e-2, 256, "cuda")
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        FieldRun.from_checkpoint(data, "cuda")
    assert FieldRun.from_checkpoint(data, "auto").steps_done == 3
