"""Devices: CPU by default, 'auto' picks CUDA only when torch sees a GPU, 'cuda' without one is a
typed error; CPU results do not depend on how the CPU was asked for; a GPU trains (when present)."""
import io

import numpy as np
import pytest
import torch

from engines.errors import InvalidInputError
from engines.fields import ImageTarget, SdfTarget, build_field, make_trainer, resolve_device
from engines.fields.trainer import Trainer

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture(scope="module")
def small_image():
    return ImageTarget("astronaut", size=32)


def test_resolve_device_choices(monkeypatch):
    assert resolve_device(None) == torch.device("cpu") == resolve_device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        resolve_device(torch.device("cuda", 0))
    with pytest.raises(InvalidInputError, match="unknown device"):
        resolve_device("gpu-please")
    with pytest.raises(InvalidInputError, match="not supported"):
        resolve_device("meta")


@pytest.mark.parametrize("name, batch_size", [("gnf", None), ("neurbf", 256), ("hash_mlp", 128)])
def test_cpu_and_auto_give_the_default_losses(small_image, name, batch_size, monkeypatch):
    if HAS_CUDA:  # on a GPU machine "auto" means CUDA; here it must be the CPU
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    runs = {}
    for device in ("default", "cpu", "auto", torch.device("cpu")):
        kwargs = {} if device == "default" else {"device": device}
        trainer = make_trainer(name, small_image, param_budget=20_000, seed=1, batch_size=batch_size, **kwargs)
        assert trainer.device == torch.device("cpu")
        runs[str(device)] = [trainer.step(1) for _ in range(4)]
    assert all(losses == runs["default"] for losses in runs.values())


def test_sdf_cpu_device_keeps_the_sampling_of_the_target():
    target = SdfTarget("sphere", pool_size=5_000, n_eval=2_000)
    trainer = make_trainer("grid_mlp", target, param_budget=20_000, seed=0, batch_size=64, device="cpu")
    reference = torch.Generator().manual_seed(0)
    x, y, _ = trainer._batch()
    ref_x, ref_y = target.sample(64, reference)
    assert torch.equal(x, ref_x) and torch.equal(y, ref_y)


def test_cuda_without_a_gpu_is_a_clear_typed_error(small_image, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    field = build_field("gnf", 2, 3, param_budget=20_000, seed=0)
    with pytest.raises(InvalidInputError, match="'cuda' was requested but CUDA is not available"):
        Trainer(field, small_image, device="cuda")
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        make_trainer("gnf", small_image, param_budget=20_000, device="cuda:0")


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("name, bar", [("gnf", 35.0), ("neurbf", 35.0)])
def test_small_image_trains_on_cuda_past_a_psnr_bar(name, bar, tmp_path):
    target = ImageTarget("astronaut", size=48)
    trainer = make_trainer(name, target, param_budget=40_000, seed=0, total_steps=300, device="cuda")
    assert trainer.device.type == "cuda"
    assert all(p.device.type == "cuda" for p in trainer.field.parameters())
    trainer.step(300)
    assert trainer.evaluate()["psnr"] > bar
    snap = trainer.snapshot(preview_res=16)
    assert isinstance(snap.preview, np.ndarray) and snap.preview.shape == (16, 16, 3)
    assert isinstance(snap.kernels["weight_norms"], np.ndarray)
    # checkpoints hold CPU tensors and load onto the CPU (or back onto the GPU)
    state = trainer.state_dict()
    assert all(v.device.type == "cpu" for v in state["field"].values())
    trainer.save(str(tmp_path / "gpu.pt"))
    on_cpu = make_trainer(name, target, param_budget=40_000, seed=5, total_steps=300, device="cpu")
    on_cpu.load(str(tmp_path / "gpu.pt"))
    assert on_cpu.step_count == 300 and np.isfinite(on_cpu.step(2))
    again = make_trainer(name, target, param_budget=40_000, seed=5, total_steps=300, device="cuda")
    again.load(str(tmp_path / "gpu.pt"))
    assert np.isfinite(again.step(2))


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_sdf_trains_and_meshes_on_cuda():
    target = SdfTarget("sphere", pool_size=20_000, n_eval=10_000)
    trainer = make_trainer("gnf", target, param_budget=60_000, seed=0, total_steps=150, batch_size=4096,
                           device="cuda")
    trainer.step(150)
    snap = trainer.snapshot(preview_res=16)
    assert snap.preview.shape == (16, 16, 16) and snap.metrics["iou"] > 0.85
    assert trainer.sdf_iou() > 0.85 and trainer.evaluate(mesh_res=32, n_surface=2000)["iou"] > 0.85
    mesh, distance = trainer.mesh(res=32)
    assert mesh is not None and len(distance) == len(mesh.vertices)
