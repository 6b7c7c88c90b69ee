import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Third-party recordings for development; tests that need them skip when absent (the only
    data-dependent skips in the suite)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("needs the shared recordings in ../shared/data, which are not present")
    return SHARED_DATA


@pytest.fixture
def data_folder(tmp_path, monkeypatch) -> Path:
    """The lab's data folder (NEURAL_LAB_DATA, where server paths may read) set to tmp_path."""
    monkeypatch.setenv("NEURAL_LAB_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def shared_data_folder(shared_data, monkeypatch) -> Path:
    """The lab's data folder set to the shared recordings (skips when they are absent)."""
    monkeypatch.setenv("NEURAL_LAB_DATA", str(shared_data))
    return shared_data
