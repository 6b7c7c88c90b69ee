"""Activity replayed on the connectome (replay.js draws it in the browser, following the room's
time cursor), with the path finder and the neuron colouring controls beside it."""
from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import pandas as pd
import param
from bokeh.palettes import RdBu, Viridis256, interp_palette
from panel.custom import JSComponent

from engines.worms import BANDS, ReplayFrames

MAX_FRAME_BYTES = 4_000_000   # longer recordings send every n-th frame (the cursor takes the nearest)
ACTIVITY_PALETTE = list(Viridis256)
CORRELATION_PALETTE = [c[:7] for c in interp_palette(RdBu[11][::-1], 101)]   # blue -1 ... red +1


class ReplayCanvas(JSComponent):
    """The browser side: the graph, its layout, every frame, and what to name and highlight."""

    channel = param.String(default="", doc="The time cursor's channel this replay follows.")
    height_px = param.Integer(default=520)
    node_names = param.List(default=[])
    node_x = param.List(default=[])
    node_y = param.List(default=[])
    node_band = param.List(default=[])
    band_labels = param.List(default=[])
    edge_pre = param.List(default=[])
    edge_post = param.List(default=[])
    edge_kind = param.List(default=[])
    edge_count = param.List(default=[])
    max_count = param.Number(default=1.0)
    frames = param.String(default="", doc="(frames x recorded) bytes, base64: 0-254 activity, 255 NaN.")
    frame_rows = param.List(default=[], doc="Per node, its column in a frame (-1: not recorded).")
    n_rows = param.Integer(default=0)
    n_frames = param.Integer(default=0)
    stride = param.Integer(default=1)
    colour_mode = param.Selector(default="activity", objects=["activity", "correlation"])
    static_values = param.List(default=[], doc="Per node value when not colouring by activity.")
    value_range = param.List(default=[0.0, 1.0])
    value_label = param.String(default="activity (scaled 0-1)")
    palette = param.List(default=ACTIVITY_PALETTE)
    marked = param.List(default=[])
    focus = param.String(default="")
    path = param.List(default=[])
    picked = param.String(default="", doc="'name|nonce' of the node last clicked.")

    _esm = Path(__file__).with_name("replay.js")


def encode_frames(frames: ReplayFrames) -> dict:
    """The recorded neurons' scaled activity as bytes (255 where missing), thinned in time to
    stay under MAX_FRAME_BYTES."""
    rows = np.flatnonzero(frames.recorded)
    values = frames.activity[:, rows]
    stride = max(1, math.ceil(values.size / MAX_FRAME_BYTES))
    values = values[::stride]
    quantised = np.where(np.isfinite(values), np.round(np.nan_to_num(values) * 254), 255).astype(np.uint8)
    frame_rows = np.full(len(frames.nodes), -1)
    frame_rows[rows] = np.arange(len(rows))
    return dict(frames=base64.b64encode(quantised.tobytes()).decode("ascii"),
                frame_rows=frame_rows.tolist(), n_rows=len(rows), n_frames=len(values), stride=stride)


def graph_data(frames: ReplayFrames, layout: pd.DataFrame) -> dict:
    """Nodes at their layout positions and the graph's edges, as the canvas takes them."""
    edges = frames.edges
    bands = [(f"{band} neurons", float(layout.loc[layout["band"] == band, "y"].max()))
             for band in BANDS if (layout["band"] == band).any()]
    y = layout["y"].to_numpy()
    scale = (y - y.min()) / max(float(y.max() - y.min()), 1e-9)
    return dict(node_names=list(frames.nodes), node_x=layout["x"].round(4).tolist(),
                node_y=scale.round(4).tolist(), node_band=layout["band"].tolist(),
                band_labels=[(text, round(float((v - y.min()) / max(y.max() - y.min(), 1e-9)), 4))
                             for text, v in bands],
                edge_pre=edges["pre"].tolist(), edge_post=edges["post"].tolist(),
                edge_kind=edges["kind"].tolist(), edge_count=edges["count"].tolist(),
                max_count=float(edges["count"].max()) if len(edges) else 1.0)


def colouring(nodes: tuple, mode: str, values: pd.Series | None, label: str) -> dict:
    """Palette, range and per-node values for 'activity' (frames) or 'correlation' (static)."""
    if mode == "correlation" and values is not None:
        static = [None if not np.isfinite(v) else round(float(v), 4)
                  for v in values.reindex(list(nodes)).to_numpy(dtype=float)]
        return dict(colour_mode="correlation", static_values=static, value_range=[-1.0, 1.0],
                    palette=CORRELATION_PALETTE, value_label=label)
    return dict(colour_mode="activity", static_values=[], value_range=[0.0, 1.0],
                palette=ACTIVITY_PALETTE, value_label="activity (scaled 0-1 per neuron)")
