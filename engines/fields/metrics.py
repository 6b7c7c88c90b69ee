"""Reconstruction metrics: PSNR and SSIM (scikit-image) for images; IoU, Chamfer-L1, normal
consistency and F-score for surfaces (NeuRBF's SDF protocol)."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def psnr(pred: np.ndarray, target: np.ndarray) -> float:
    return float(peak_signal_noise_ratio(target, np.clip(pred, 0, 1), data_range=1.0))


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    channel_axis = -1 if target.ndim == 3 else None
    return float(structural_similarity(target, np.clip(pred, 0, 1), data_range=1.0,
                                       channel_axis=channel_axis))


def iou(pred_sdf: np.ndarray, true_sdf: np.ndarray) -> float:
    """Intersection over union of the insides (sdf < 0) on the same sample points."""
    inside_p, inside_t = pred_sdf < 0, true_sdf < 0
    union = np.logical_or(inside_p, inside_t).sum()
    return float(np.logical_and(inside_p, inside_t).sum() / union) if union else 1.0


def surface_metrics(pred_pts, pred_normals, true_pts, true_normals, thresholds=(0.01, 0.02)) -> dict:
    """Chamfer-L1 (mean of both directed distances / 2), normal consistency and F-scores."""
    if len(pred_pts) == 0:
        return {"chamfer_l1": float("inf"), "normal_consistency": 0.0,
                **{f"fscore@{t}": 0.0 for t in thresholds}}
    d_pt, i_pt = cKDTree(true_pts).query(pred_pts)   # accuracy: prediction -> truth
    d_tp, i_tp = cKDTree(pred_pts).query(true_pts)   # completeness: truth -> prediction
    nc_pt = np.abs((pred_normals * true_normals[i_pt]).sum(1)).mean()
    nc_tp = np.abs((true_normals * pred_normals[i_tp]).sum(1)).mean()
    out = {"chamfer_l1": float((d_pt.mean() + d_tp.mean()) / 2),
           "normal_consistency": float((nc_pt + nc_tp) / 2)}
    for t in thresholds:
        precision, recall = (d_pt < t).mean(), (d_tp < t).mean()
        out[f"fscore@{t}"] = float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0
    return out
