"""Neural fields engine: Gaussian RBF (GNF) and NeuRBF fields for images and SDFs, with baselines.

Pure torch / numpy / scikit-image / trimesh; no UI imports. CPU first (one intra-op thread by
default); Trainer(device="cuda") or "auto" trains on a GPU when torch sees one.

Fields: each family is declared once (``family.Family``, beside its module: gnf.py, neurbf.py,
baselines.py), collected by ``registry``:
    build_field(name, in_dim, out_dim, param_budget=None, knob=None, seed=None, **knobs)
        name in FIELD_NAMES = ("gnf", "neurbf", "siren", "fourier_mlp", "hash_mlp", "grid_mlp");
        RBF_FIELDS = ("gnf", "neurbf"). Maps (N, in_dim) coords in [-1, 1] to (N, out_dim).
        Knobs not given take the family's defaults for the task (image: 2-D, shape: 3-D). The
        module carries .name, .knob (the value of its size knob), .size_knob, .architecture and
        .param_count. With param_budget the size knob takes the largest value that fits (the
        other knobs fixed), so any two fields compare at an equal budget.
    registry.family(name) -> Family: label, size knob, defaults per task, Recipe per task (tuned
        learning rate, batch size, schedule, loss; benchmarks/fields_tuning.json records the sweep).
    registry.recipe(name, task), registry.defaults(name, task) (every knob with its default, the
        training ones from the recipe), registry.knob_table() (each knob: label, bounds, log
        scale, unit, doc, live or architecture, the families that take it and their defaults):
        what a room derives its parameters and widgets from.
    RBF fields also have .kernel_params() -> dict:
        gnf:    feature_centres (U, D), feature_widths (U, D), weight_norms (U,)
        neurbf: centres (K, d), shapes (K, d, d) (2x2 -> ellipses in 2-D), weight_norms (K,),
                init_weights (the k-means weight per training point), adaptive (bool)
    NeuRBF: field.rbf.set_adaptive(True) lets kernel centres and shapes keep learning
    (neighbour lists refresh every field.rbf.refresh_every steps); NeuRBF itself freezes them.
    A trainer attaches its fixed training points (field.attach), so frozen kernels compute
    their neighbour lists and sinusoid values once; other queries reuse one k-d tree.
    rbf.image_kernels(field, coords) -> centres, half-maximum ellipses, weight norms (2-D; GNF
    units are placed by rbf.gnf_footprints where they respond).
    Building blocks: encoders.DenseGrid (optionally periodic) / HashGrid, gnf.GaussianRBF,
    neurbf.AdaptiveRBF / weighted_kmeans, baselines.SIREN / FourierMLP / GridMLP.

Targets
    ImageTarget(source="astronaut", size=None, max_size=512, grey=False)
        source: a skimage.data name (BUNDLED_IMAGES), a file path or an array. Larger images are
        downscaled; .notice holds the message (also issued as a warning). .image (H, W, C) in
        [0, 1], .coords, .values, .weight_map() (the NeuRBF k-means weights as an H x W map).
    SdfTarget(source="csg", pool_size=200_000, n_eval=100_000, seed=0)
        source: an analytic shape (ANALYTIC_SHAPES: sphere, torus, box, csg), a bundled pyvista
        mesh name (bundled_meshes(): ant, nut, airplane, sphere), a trimesh.creation name
        (CREATION_SHAPES), a mesh file path (PLY/STL/OBJ/OFF), or a (vertices, faces) tuple.
        Normalised into radius 0.99; .sdf(points) ground truth; .mesh; .notice (non-watertight).

Training
    make_trainer(field_name, target, param_budget=None, seed=0, architecture=None, **trainer_kwargs)
    Trainer(field, target, lr=None, total_steps=2000, final_lr_ratio=None, hold=None,
            batch_size=None, seed=0, threads=1, device=None, recipe=None, schedule=None, loss=None)
        Unset settings come from the family's tuned recipe for the task. Batches are random
        pixels (a batch at least the image's size is every pixel) or random samples of the SDF
        target's pool, drawn the same way for every field.
        device: None or "cpu" (the default: small fields are fastest and bit-reproducible on one
        CPU thread), "auto" (CUDA when torch.cuda.is_available(), else CPU), "cuda[:n]" or a
        torch.device; an unavailable device raises InvalidInputError. The field and device copies
        of the target's tensors live on .device; batches are drawn with a CPU generator, so a seed
        picks the same samples on every device. Snapshots, metrics and previews are numpy;
        state_dict() / save() hold CPU tensors and load() works on any device.
        .step(n) -> last loss            advance n Adam steps on the recipe's schedule over
                                          total_steps (per-group rates for NeuRBF)
        .snapshot(preview_res=64) -> Snapshot(step, wall_time, loss, lr, metrics, history,
              preview, kernels)           cheap: call it a few times a second
        .set_lr(lr), .lr, .lr_at(step)   live base-rate change; the schedule keeps its shape
        .set_batch_size(n)                live; None = the recipe's
        .remember_good_state()            where a divergence returns to (also every 25 steps)
        .evaluate() -> {"psnr", "ssim"} or {"iou", "chamfer_l1", "normal_consistency", "fscore@t"}
        .reconstruction() -> (image, error map)         (images)
        .mesh(res=128) -> (trimesh.Trimesh, |true SDF| per vertex)   (SDFs)
        .sdf_iou(), .vertex_chamfer(vertices, faces)    cheap live SDF metrics
        .save(path) / .load(path)         atomic checkpoints; .state_dict() / .load_state_dict()
                                          hold only tensors and plain values: loading uses
                                          torch.load(weights_only=True), so a file cannot run code
    A NaN or exploding loss restores the last good state and raises errors.DivergenceError.
    No threads inside: the room calls step() from its own worker thread; pausing = not calling.

Meshing: meshing.preview_surface(field, res, max_points) (coarsens a huge early surface),
meshing.slice_plane(field, z, res), meshing.extract_mesh(field, res).
Export: meshing.export_png(image, path), meshing.export_mesh(mesh, path) (.ply / .stl), atomic.
Devices: devices.resolve_device(choice) -> torch.device, devices.DEVICE_CHOICES, devices.field_device.
Errors: bad files, arrays, meshes and sizes raise errors.InvalidInputError with a user message.
"""
from .devices import DEVICE_CHOICES, resolve_device
from .images import BUNDLED_IMAGES, ImageTarget, load_image
from .meshing import evaluate_grid, export_mesh, export_png, extract_mesh
from .registry import FIELD_NAMES, RBF_FIELDS, build_field
from .sdf import CREATION_SHAPES, SdfTarget, bundled_meshes, load_mesh
from .shapes import ANALYTIC_SHAPES
from .trainer import Snapshot, Trainer, make_trainer

__all__ = ["ANALYTIC_SHAPES", "BUNDLED_IMAGES", "CREATION_SHAPES", "DEVICE_CHOICES", "FIELD_NAMES",
           "RBF_FIELDS", "ImageTarget", "SdfTarget", "Snapshot", "Trainer", "build_field",
           "bundled_meshes", "evaluate_grid", "export_mesh", "export_png", "extract_mesh",
           "load_image", "load_mesh", "make_trainer", "resolve_device"]
