"""Radiance fields: density and colour heads on any of the lab's fields, trained from posed
images by volume rendering in torch; novel views, held-out views, a density isosurface, and a
2-D "flatland" version for teaching. No UI imports; CPU first (one thread), CUDA on request.

Data (every source gives a ``RadianceDataset``: train / test ``Views`` of images (N, H, W, 3) in
[0, 1], ``Camera``s (OpenGL c2w, fx, fy, cx, cy) and depths (distance along rays, nan where
nothing is hit) when known, a cube ``SceneBox``, a background colour, ``true_density`` when the
scene is known exactly; ``to_npz_bytes`` / ``from_npz_bytes`` save it without pickle)
    blob_dataset(n_train=60, n_test=10, size=64, seed=0, n_blobs=6, background="black")
        coloured Gaussian blobs rendered by the lab's own renderer: the density is known, so
        ``evaluate`` also scores the learned field (density MAE, as a share of the range)
    load_radiance_data(source, max_bytes, size=100, background="white", n_test=None)
        a user's data: a folder, a .zip path, zip bytes (an upload) or a .npz path, in the
        NeRF-synthetic layout (transforms_train/test.json or transforms.json + images) or the
        tiny_nerf_data.npz layout (images, poses, focal). ``max_bytes`` bounds the upload and
        what it unpacks to (pass lab.settings.current().upload_limit_bytes); images are
        downscaled to ``size`` on their longer side one at a time. Bad files raise
        InvalidInputError naming the file and field (missing frames, mixed image sizes, poses
        that are not rigid, lens models it cannot undo, paths leaving the dataset, pickle).
    The built-in scenes (pyvista renders of bundled meshes: globe, airplane, ant, nut) are made
    outside the engine, in lab.fields.scenes.load_scene(name, n_train=100, n_test=20, size=100,
    background="white") (cached on disk).

Model
    build_radiance_field(name, dim=3, param_budget=None, knob=None, sh_degree=0, seed=None)
        name: any registry family (gnf, neurbf, grid_mlp, hash_mlp, nerf_mlp, siren, ...); the
        field gives density (truncated exp) and colour (sigmoid of spherical harmonics).
    RENDER: RenderSettings(n_samples, early_stop, alpha_floor, cull, segments, chunk);
        render_rays(model, origins, dirs, box, settings, occupancy, background, generator);
        render_image(model, camera, box, settings, occupancy, background) -> rgb, depth, opacity.
    OccupancyGrid(dim, res): skips empty space; refreshed from the field while training.
    Each family's radiance settings are declared with the family (``registry.recipe(name,
        "radiance")``: lr, rays per step = batch_size, samples_per_ray; ``registry.defaults(name,
        "radiance")``: every knob's default); settings.radiance_defaults(name) gives both at once
        for the room, radiance_recipe / radiance_architecture(name, dim) what the trainer uses.

Training: RadianceTrainer(model, data, lr=None, batch_rays=None, total_steps=3000, settings=None,
        occupancy=True, sample_warmup=50, seed=0, device=None)
    The fields Trainer contract: .step(n) -> loss, .snapshot(preview_res) (preview: a novel view
    (res, res, 3), or the density over the plane in flatland), .set_lr, .set_batch_size (rays),
    .remember_good_state(), divergence -> last good state + DivergenceError, .save / .load /
    .state_dict (weights_only; the occupancy grid included), .history, .wall_time.
    For the room, all numpy:
      .render_view(azimuth, elevation, size=64, distance=None) -> {"rgb", "depth", "opacity"}
          (a 100 x 100 view of a trained scene takes ~0.1-0.3 s on one CPU thread)
      .orbit_camera(azimuth, elevation, size) -> Camera   (the same camera, e.g. to draw it)
      .held_out_view(i) -> {"rgb", "truth", "error", "depth", "true_depth", "psnr"}
      .train_frustums(depth=None) -> (N, 5, 3): camera centre + image corners (pyramids)
      .density_mesh(res=96, level=None) -> trimesh.Trimesh in world coordinates, or None
      .density_volume(res) -> (res,)*3 densities;  .evaluate(max_views=None) -> {"psnr",
          "ssim", "depth_mae", "depth_coverage"[, "density_mae", "density_mae_share",
          "density_correlation"]}
Flatland (flatland.py): flatland_scene(n_cameras=24, n_pixels=128, n_test=8, n_blobs=5, seed=0);
    flatland_trainer(field="gnf", scene=None, param_budget=50_000, **trainer_kwargs) ->
    RadianceTrainer; flatland_state(trainer, camera=0, pixel=None, res=128) -> dict of numpy:
    true_density, density, colour (res, res[, 3]), cameras, rows / rendered_rows (C, P, 3), ray
    (origin, direction, near, far), samples (points, t, density, alpha, transmittance, weights),
    pixel_true / pixel_rendered, metrics (density_mae_share).
Metrics (metrics.py): psnr, ssim, depth_error, density_grid, field_error.
"""
from .analytic import BlobScene, blob_dataset
from .cameras import Camera, look_at, orbit_camera, sphere_cameras, stack_rays
from .compositing import Composite, composite
from .datasets import BACKGROUNDS, RadianceDataset, Views, background_colour, box_from_cameras
from .field import RadianceField, build_radiance_field
from .loaders import load_nerf_synthetic, load_radiance_data, load_tiny_nerf
from .occupancy import OccupancyGrid
from .render import RenderSettings, render_image, render_rays
from .sampling import SceneBox, ray_box, stratified
from .settings import radiance_architecture, radiance_defaults, radiance_recipe
from .trainer import RadianceTrainer

__all__ = ["BACKGROUNDS", "BlobScene", "Camera", "Composite", "OccupancyGrid", "RadianceDataset",
           "RadianceField", "RadianceTrainer", "RenderSettings", "SceneBox", "Views", "background_colour",
           "blob_dataset", "box_from_cameras", "build_radiance_field", "composite", "load_nerf_synthetic",
           "load_radiance_data", "load_tiny_nerf", "look_at", "orbit_camera", "radiance_architecture",
           "radiance_defaults", "radiance_recipe", "ray_box", "render_image", "render_rays", "sphere_cameras",
           "stack_rays", "stratified"]
