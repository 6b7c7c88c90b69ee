"""What the room's export holds: the factors (NPZ and CSV), the partitions and enrichment (CSV),
and ``connectome_settings.json``: every setting that produced them, by stage, a summary of the
results and the library versions, so a downloaded zip says how to reproduce it."""
from __future__ import annotations

import io
import os
import tempfile
import zipfile

from engines.connectome.export import factors_csv, factors_npz, partitions_csv, settings_json
from engines.errors import InvalidInputError
from engines.files import atomic_write_bytes

PREFIX = "connectome"


def results_summary(room) -> dict:
    """The figures a reader checks the files against."""
    tensor, result = room.tensor, room.result
    n_windows, n_worms, n_pairs = tensor.shape
    return {"recordings": room.recordings_label, "windows": n_windows, "worms": n_worms, "pairs": n_pairs,
            "neurons": len(tensor.neurons), "observed_fraction": tensor.observed_fraction,
            "rank": result.rank, "n_iter": result.n_iter, "converged": result.converged,
            "relative_error": result.error, "components_with_communities": sorted(room.communities),
            "recommended_rank": room.recommended_rank}


def write_files(room, folder: str) -> list[str]:
    """Every export file of ``room``'s current results, written into ``folder``; the paths."""
    tensor, result = room.tensor, room.result
    if tensor is None:
        raise InvalidInputError("Build the tensor first.")
    if result is None:
        raise InvalidInputError("Factorise the tensor first: there are no factors to export.")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{PREFIX}_factors.npz")
    factors_npz(path, tensor, result)
    paths = [path] + factors_csv(os.path.join(folder, PREFIX), tensor, result)
    produced_by = room.produced_by
    if room.communities:
        path = os.path.join(folder, f"{PREFIX}_partitions.csv")
        method = produced_by.get("communities", {}).get("community_method", room.community_method)
        partitions_csv(path, tensor.neurons, {f"component_{k}/{method}": labels
                                              for k, labels in room.communities.items()})
        paths.append(path)
    if room.enrichment_table is not None and len(room.enrichment_table):
        path = os.path.join(folder, f"{PREFIX}_enrichment.csv")
        atomic_write_bytes(path, room.enrichment_table.to_csv(index=False).encode())
        paths.append(path)
    path = os.path.join(folder, f"{PREFIX}_settings.json")
    settings_json(path, produced_by, results_summary(room))
    return paths + [path]


def zip_bytes(room) -> bytes:
    """Everything ``write_files`` writes, as the bytes of one zip archive."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in write_files(room, folder):
            archive.write(path, os.path.basename(path))
    return buffer.getvalue()
