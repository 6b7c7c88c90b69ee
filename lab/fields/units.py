"""Where an RBF field's units are in an image, as the room draws them.

NeuRBF's kernels live in the image: each is an ellipse (``engines.fields.rbf.image_kernels``).
GNF's units live in feature space, so a unit has no place of its own in the image. Summarising
each unit's response over the image by its weighted mean and covariance (an ellipse) put every
unit at the image centre with about the same radius: a unit responds, weakly, at pixels all
over the image (its Gaussian reads fine-grid features that vary from pixel to pixel), and the
mean of a response scattered over the whole square is its centre, its covariance that of the
square. What is true, and what the room draws instead, is the unit contributing most at each
pixel (|readout weight| x response): a map of which unit the field leans on where.

(Computation of the room's snapshots, run in its worker process; the map itself is
``engines.fields.rbf.gnf_unit_map``.)
"""
from __future__ import annotations

from engines.fields.rbf import GNF, NeuRBF, gnf_unit_map, image_kernels


def kernel_view(field, target, max_kernels: int = 1024) -> dict | None:
    """What the room draws of a 2-D field's units: NeuRBF ellipses, GNF's unit map, else None."""
    if isinstance(field, NeuRBF):
        kernels = image_kernels(field, target.coords, max_kernels)
        return {"kind": "ellipses", **kernels} if kernels else None
    if isinstance(field, GNF):
        return {"kind": "units", **gnf_unit_map(field, target.coords, target.height, target.width)}
    return None
