"""The step-wise trainer: snapshots, reproducibility, checkpoints, divergence and exports."""
import math

import numpy as np
import pytest
import torch
import trimesh
from skimage import io as skio

from engines.errors import DivergenceError, InvalidInputError
from engines.fields import ImageTarget, SdfTarget, build_field, export_mesh, export_png, make_trainer


@pytest.fixture(scope="module")
def small_image():
    return ImageTarget("astronaut", size=32)


def test_same_seed_same_losses(small_image):
    runs = [make_trainer("gnf", small_image, param_budget=20_000, seed=3) for _ in range(2)]
    losses = [[t.step(1) for _ in range(5)] for t in runs]
    assert losses[0] == losses[1]
    other = make_trainer("gnf", small_image, param_budget=20_000, seed=4)
    assert [other.step(1) for _ in range(5)] != losses[0]


def test_snapshot_reports_progress_and_neurbf_kernels(small_image):
    trainer = make_trainer("neurbf", small_image, param_budget=30_000, seed=0)
    trainer.step(10)
    snap = trainer.snapshot(preview_res=16)
    assert snap.step == 10 and len(snap.history["loss"]) == 10 and snap.wall_time > 0
    assert snap.preview.shape == (16, 16, 3)
    assert snap.metrics["psnr"] == pytest.approx(trainer.evaluate()["psnr"], abs=1e-3)  # all 1,024 pixels
    k = snap.kernels
    n = len(k["centres"])
    assert k["shapes"].shape == (n, 2, 2) and np.all(np.linalg.eigvalsh(k["shapes"]) >= 0)
    assert k["init_weights"].shape == (32 * 32,) and k["weight_norms"].shape == (n,)


def test_learning_rate_schedule_and_set_lr(small_image):
    trainer = make_trainer("gnf", small_image, param_budget=20_000, total_steps=100, seed=0)
    assert trainer.lr_at(100) == pytest.approx(trainer.base_lr * 0.1)
    trainer.set_lr(0.5)
    trainer.step(1)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.5)
    with pytest.raises(InvalidInputError):
        trainer.set_lr(0)


def test_checkpoint_round_trip_continues_identically(small_image, tmp_path):
    a = make_trainer("gnf", small_image, param_budget=20_000, seed=0)
    a.step(7)
    path = tmp_path / "ckpt.pt"
    a.save(str(path))
    b = make_trainer("gnf", small_image, param_budget=20_000, seed=99)
    b.load(str(path))
    assert b.step_count == 7 and b.history == a.history
    assert [a.step(1) for _ in range(3)] == [b.step(1) for _ in range(3)]
    wrong = make_trainer("siren", small_image, param_budget=20_000)
    with pytest.raises(InvalidInputError, match="gnf"):
        wrong.load(str(path))
    (tmp_path / "junk.pt").write_text("no")
    with pytest.raises(InvalidInputError, match="not a readable checkpoint"):
        a.load(str(tmp_path / "junk.pt"))


def test_nan_restores_last_good_state_and_raises(small_image):
    trainer = make_trainer("gnf", small_image, param_budget=20_000, seed=0)
    trainer.good_state_every = 5
    trainer.step(10)
    good = {k: v.clone() for k, v in trainer.field.state_dict().items()}
    with torch.no_grad():
        trainer.field.readout.weight.fill_(float("nan"))
    with pytest.raises(DivergenceError, match="restored the state of step 10"):
        trainer.step(3)
    assert trainer.step_count == 10 and len(trainer.history["loss"]) == 10
    assert all(torch.equal(good[k], v) for k, v in trainer.field.state_dict().items())
    trainer.step(1)  # it carries on from the good state
    assert math.isfinite(trainer.history["loss"][-1])


def test_field_and_target_must_agree(small_image):
    from engines.fields import Trainer
    with pytest.raises(InvalidInputError, match="target needs"):
        Trainer(build_field("gnf", 3, 1, param_budget=10_000), small_image)


def test_exports_are_readable(small_image, tmp_path):
    export_png(small_image.image, str(tmp_path / "out.png"))
    assert skio.imread(tmp_path / "out.png").shape == (32, 32, 3)
    mesh = trimesh.creation.icosphere(subdivisions=1)
    for ext in ("ply", "stl"):
        export_mesh(mesh, str(tmp_path / f"m.{ext}"))
        assert len(trimesh.load(tmp_path / f"m.{ext}").faces) == len(mesh.faces)
    with pytest.raises(InvalidInputError, match="ply or .stl"):
        export_mesh(mesh, str(tmp_path / "m.obj"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ply", "m.stl", "out.png"]


def test_sdf_snapshot_has_a_preview_volume_and_iou():
    target = SdfTarget("torus", pool_size=10_000, n_eval=5_000)
    trainer = make_trainer("neurbf", target, param_budget=40_000, seed=0, batch_size=2048)
    trainer.step(3)
    snap = trainer.snapshot(preview_res=12)
    assert snap.preview.shape == (12, 12, 12) and 0 <= snap.metrics["iou"] <= 1
    assert snap.kernels["centres"].shape[1] == 3


def test_adaptive_kernels_move_during_training_and_frozen_ones_do_not(small_image):
    trainer = make_trainer("neurbf", small_image, param_budget=30_000, seed=0)
    start = trainer.field.rbf.centres.detach().clone()
    trainer.step(3)
    assert torch.equal(trainer.field.rbf.centres, start)  # NeuRBF's default: frozen after k-means
    trainer.field.rbf.set_adaptive(True)
    trainer.step(3)
    assert not torch.equal(trainer.field.rbf.centres, start)


def test_more_kernels_than_pixels_is_a_typed_error():
    tiny = ImageTarget(np.random.default_rng(0).random((8, 8)))
    with pytest.raises(InvalidInputError, match="fewer kernels"):
        make_trainer("neurbf", tiny, param_budget=200_000)


def test_live_learning_rate_and_batch_size_compose_with_the_schedule(small_image):
    trainer = make_trainer("gnf", small_image, param_budget=20_000, total_steps=10, hold=0.5, seed=0,
                           batch_size=64)
    trainer.step(10)
    assert trainer.lr == pytest.approx(trainer.base_lr * 0.1)  # decayed to the end of the schedule
    trainer.set_lr(0.2)
    assert trainer.lr == pytest.approx(0.02)  # the new base rate, at the same point of the schedule
    trainer.set_batch_size(16)
    assert len(trainer._batch()[0]) == 16
    trainer.set_batch_size(5000)  # at least the image: every pixel
    assert len(trainer._batch()[0]) == 32 * 32
    trainer.set_batch_size(None)  # back to the recipe's (here the one the trainer was made with)
    assert len(trainer._batch()[0]) == 64
    with pytest.raises(InvalidInputError):
        trainer.set_batch_size(0)


def test_remembered_state_is_where_a_divergence_returns(small_image):
    trainer = make_trainer("gnf", small_image, param_budget=20_000, seed=0)
    trainer.step(3)
    trainer.remember_good_state()
    with torch.no_grad():
        trainer.field.readout.weight.fill_(float("nan"))
    with pytest.raises(DivergenceError, match="loss became nan at step 4; restored the state of step 3"):
        trainer.step(1)


def test_checkpoints_load_without_running_code(small_image, tmp_path):
    import pickle

    class Exploit:
        def __reduce__(self):
            return (exec, ("raise SystemExit('ran code from a checkpoint')",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"history": Exploit()}, protocol=2))
    trainer = make_trainer("gnf", small_image, param_budget=20_000, seed=0)
    with pytest.raises(InvalidInputError, match="not a readable checkpoint"):
        trainer.load(str(path))
    torch.save({"something": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(InvalidInputError, match="not a fields trainer checkpoint"):
        trainer.load(str(tmp_path / "other.pt"))
