"""Image loading, typed errors for bad input, metrics, and a small image that learns."""
import numpy as np
import pytest

from engines.errors import InvalidInputError
from engines.fields import ImageTarget, load_image, make_trainer
from engines.fields.metrics import psnr, ssim


def test_bundled_image_reads_the_right_values():
    from skimage import data
    img = load_image("camera")
    assert img.shape == (512, 512) and img.dtype == np.float32
    assert np.allclose(img * 255, data.camera(), atol=1e-3)


def test_large_image_is_downscaled_with_a_notice():
    with pytest.warns(UserWarning, match="downscaled"):
        t = ImageTarget("astronaut", max_size=128)
    assert (t.height, t.width, t.channels) == (128, 128, 3)
    assert "512x512" in t.notice
    assert t.coords.shape == (128 * 128, 2) and t.values.shape == (128 * 128, 3)


def test_requested_size_and_grey():
    t = ImageTarget(np.random.default_rng(0).random((40, 80, 3)), size=20, grey=True)
    assert (t.height, t.width, t.channels) == (10, 20, 1) and t.notice is None


def test_a_file_that_is_not_an_image_raises(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is text, not pixels")
    with pytest.raises(InvalidInputError, match="not a readable image"):
        load_image(str(bad))
    with pytest.raises(InvalidInputError, match="no image file"):
        load_image(str(tmp_path / "missing.png"))


@pytest.mark.parametrize("array, message", [
    (np.zeros((1, 5)), "too small"), (np.zeros((4, 4, 5)), "expected a grey"),
    (np.zeros((2, 2, 2, 2)), "expected a grey"), (np.full((4, 4), np.nan), "NaN"),
    (np.array([["a", "b"], ["c", "d"]]), "numbers")])
def test_degenerate_arrays_raise(array, message):
    with pytest.raises(InvalidInputError, match=message):
        ImageTarget(array)


def test_image_metrics_agree_with_definitions():
    rng = np.random.default_rng(0)
    truth = rng.random((32, 32, 3)).astype(np.float32)
    noisy = np.clip(truth + 0.01, 0, 1)
    expected = -10 * np.log10(np.mean((noisy - truth) ** 2))
    assert psnr(noisy, truth) == pytest.approx(expected, rel=1e-4)
    assert ssim(truth, truth) == pytest.approx(1.0) and ssim(noisy, truth) < 1.0


@pytest.mark.parametrize("name, bar", [("gnf", 38.0), ("neurbf", 38.0)])
def test_small_image_trains_past_a_psnr_bar(name, bar):
    target = ImageTarget("astronaut", size=48)
    trainer = make_trainer(name, target, param_budget=40_000, seed=0, total_steps=300)
    trainer.step(300)
    assert trainer.evaluate()["psnr"] > bar
    image, error = trainer.reconstruction()
    assert image.shape == (48, 48, 3) and error.shape == (48, 48)
