from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real datasets beside the checkout (../shared/data), as CI has them."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the real datasets are missing: expected them at {SHARED_DATA}")
    return SHARED_DATA
