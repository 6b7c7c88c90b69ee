"""Users' multi-view data: the NeRF-synthetic layout and tiny_nerf_data.npz, from folders and zips.

The fixtures are written here in the real formats (PNG files and transforms_*.json as Blender's
NeRF scenes have them; an .npz with images, poses and focal as tiny_nerf_data.npz), from a small
scene rendered by the lab, so the values read back can be checked.
"""
import io
import json
import math
import zipfile

import numpy as np
import pytest
from PIL import Image

from engines.errors import InvalidInputError
from engines.fields.radiance import blob_dataset, load_radiance_data


@pytest.fixture(scope="module")
def scene():
    return blob_dataset(n_train=6, n_test=2, size=16, n_blobs=2, n_samples=96, background="white")


def write_nerf_synthetic(folder, scene, **meta_extra):
    for split, views in (("train", scene.train), ("test", scene.test)):
        (folder / split).mkdir(parents=True, exist_ok=True)
        frames = []
        for i, (image, cam) in enumerate(zip(views.images, views.cameras)):
            rgba = np.dstack([(image * 255).round().astype(np.uint8), np.full(image.shape[:2], 255, np.uint8)])
            Image.fromarray(rgba, "RGBA").save(folder / split / f"r_{i}.png")
            frames.append({"file_path": f"./{split}/r_{i}", "rotation": 0.0, "transform_matrix": cam.c2w.tolist()})
        angle = 2 * math.atan(cam.width / (2 * cam.fx))
        (folder / f"transforms_{split}.json").write_text(json.dumps({"camera_angle_x": angle, **meta_extra,
                                                                     "frames": frames}))
    return folder


def zip_folder(folder, prefix="lego/") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + str(path.relative_to(folder)))
    return buf.getvalue()


def tiny_npz(scene, **replace) -> bytes:
    images = np.concatenate([scene.train.images, scene.test.images])
    cams = scene.train.cameras + scene.test.cameras
    arrays = {"images": images, "poses": np.stack([c.c2w for c in cams]).astype(np.float32),
              "focal": np.array(cams[0].fx)}
    arrays.update(replace)
    buf = io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if v is not None})
    return buf.getvalue()


def test_reads_the_nerf_synthetic_layout_from_a_folder_and_a_zip(scene, tmp_path):
    folder = write_nerf_synthetic(tmp_path / "lego", scene)
    data = load_radiance_data(folder, size=None)
    assert data.train.images.shape == (6, 16, 16, 3) and data.test.images.shape == (2, 16, 16, 3)
    assert np.abs(data.train.images - scene.train.images).max() <= 0.5 / 255 + 1e-6
    assert np.allclose(data.train.cameras[3].c2w, scene.train.cameras[3].c2w)
    assert data.train.cameras[0].fx == pytest.approx(scene.train.cameras[0].fx, rel=1e-6)
    assert np.allclose(data.background, 1.0)
    # the box is centred where the cameras look and holds the scene (the blobs lie within 0.9)
    assert np.linalg.norm(data.box.centre) < 0.2 and 0.9 < data.box.half_size < 2.0
    zipped = load_radiance_data(zip_folder(folder), size=8)
    assert zipped.name == "lego" and zipped.train.images.shape == (6, 8, 8, 3)
    assert zipped.train.cameras[0].fx == pytest.approx(scene.train.cameras[0].fx / 2, rel=1e-6)
    assert np.allclose(zipped.train.images.mean(), scene.train.images.mean(), atol=0.02)


def test_transparent_pixels_take_the_background(scene, tmp_path):
    folder = write_nerf_synthetic(tmp_path / "s", scene)
    Image.fromarray(np.zeros((16, 16, 4), np.uint8), "RGBA").save(folder / "train" / "r_0.png")
    assert np.allclose(load_radiance_data(folder, background="white").train.images[0], 1.0)
    assert np.allclose(load_radiance_data(folder, background="black").train.images[0], 0.0)


def test_reads_tiny_nerf_npz_from_bytes_a_path_and_a_zip(scene, tmp_path):
    data = tiny_npz(scene)
    path = tmp_path / "tiny_nerf_data.npz"
    path.write_bytes(data)
    from_path = load_radiance_data(path, n_test=2)
    assert len(from_path.train) == 6 and len(from_path.test) == 2
    assert np.allclose(from_path.test.images, scene.test.images, atol=1e-6)
    assert np.allclose(from_path.test.cameras[1].c2w, scene.test.cameras[1].c2w, atol=1e-6)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/tiny_nerf_data.npz", data)
    from_zip = load_radiance_data(buf.getvalue(), n_test=2, size=8)
    assert from_zip.train.images.shape == (6, 8, 8, 3)
    assert load_radiance_data(path).test.images.shape[0] == 1   # default: one view in eight held out


def _break(folder, how):
    meta = json.loads((folder / "transforms_train.json").read_text())
    if how == "missing frame":
        (folder / "train" / "r_2.png").unlink()
    elif how == "mixed sizes":
        Image.new("RGBA", (20, 20)).save(folder / "train" / "r_1.png")
    elif how == "non-rigid pose":
        pose = np.array(meta["frames"][3]["transform_matrix"])
        pose[:3, :3] *= 2  # a scaled camera: not a rotation
        meta["frames"][3]["transform_matrix"] = pose.tolist()
    elif how == "distortion":
        meta["k1"] = 0.12
    elif how == "fisheye":
        meta["camera_model"] = "OPENCV_FISHEYE"
    elif how == "escape":
        meta["frames"][0]["file_path"] = "../../../etc/passwd"
    elif how == "no held-out views":
        (folder / "transforms_test.json").unlink()
    elif how == "no focal length":
        del meta["camera_angle_x"]
    elif how == "not json":
        (folder / "transforms_train.json").write_text("{frames: [")
        return
    elif how == "not an image":
        (folder / "train" / "r_4.png").write_bytes(b"this is not a png")
    (folder / "transforms_train.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("how, message", [
    ("missing frame", r"transforms_train.json frames\[2\].file_path: the image './train/r_2' is missing"),
    ("mixed sizes", r"train/r_1.png is 20x20 pixels but train/r_0.png is 16x16"),
    ("non-rigid pose", r"transforms_train.json frames\[3\].transform_matrix is not a rigid camera pose"),
    ("distortion", r"transforms_train.json frames\[0\]: lens distortion k1=0.12 cannot be handled"),
    ("fisheye", r"camera_model 'OPENCV_FISHEYE' cannot be handled"),
    ("escape", r"frames\[0\].file_path '../../../etc/passwd' points outside the dataset"),
    ("no held-out views", r"no transforms_test.json or transforms_val.json"),
    ("no focal length", r"gives no focal length: camera_angle_x or fl_x is needed"),
    ("not json", r"transforms_train.json is not valid JSON"),
    ("not an image", r"train/r_4.png is not a readable image"),
])
def test_bad_nerf_synthetic_data_is_refused_naming_file_and_field(scene, tmp_path, how, message):
    folder = write_nerf_synthetic(tmp_path / "s", scene)
    _break(folder, how)
    with pytest.raises(InvalidInputError, match=message):
        load_radiance_data(folder)
    with pytest.raises(InvalidInputError, match=message):
        load_radiance_data(zip_folder(folder, prefix=""))


@pytest.mark.parametrize("replace, message", [
    ({"focal": None}, r"tiny_nerf_data.npz has no 'focal' array"),
    ({"poses": np.eye(4)[None].repeat(3, 0)}, r"8 images but 3 poses"),
    ({"images": np.zeros((8, 16, 16))}, r"images must be numbers shaped \(N, H, W, 3\)"),
    ({"focal": np.array(-3.0)}, r"focal must be one positive number"),
    ({"poses": np.tile(np.diag([1.0, 1.0, 3.0, 1.0]), (8, 1, 1))}, r"poses\[0\] is not a rigid camera pose"),
    ({"focal": np.array(["a", "b"], dtype=object)}, r"cannot be read without pickle"),
])
def test_bad_tiny_nerf_data_is_refused(scene, replace, message):
    with pytest.raises(InvalidInputError, match=message):
        load_radiance_data(_zip_of({"tiny_nerf_data.npz": tiny_npz(scene, **replace)}))


def _zip_of(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_uploads_are_bounded_and_checked():
    with pytest.raises(InvalidInputError, match="over the limit of 1 MB"):
        load_radiance_data(b"x" * (2 << 20), max_bytes=1 << 20)
    bomb = _zip_of({"tiny_nerf_data.npz": bytes(50 << 20)})  # 50 MB of zeros, ~50 kB zipped
    assert len(bomb) < 1 << 20
    with pytest.raises(InvalidInputError, match="unpacks to 50 MB, over the limit of 1 MB"):
        load_radiance_data(bomb, max_bytes=1 << 20)
    with pytest.raises(InvalidInputError, match="not a readable zip"):
        load_radiance_data(b"not a zip at all")
    with pytest.raises(InvalidInputError, match="holds neither transforms_train.json"):
        load_radiance_data(_zip_of({"notes.txt": b"hello"}))
