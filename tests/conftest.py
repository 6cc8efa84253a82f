import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The real datasets beside the checkout (../shared/data), as CI has them.

    Missing, they skip the real-data tests with the reason, except in CI (``CI=true``),
    where they must run.
    """
    if not SHARED_DATA.is_dir():
        message = f"the real datasets are missing: expected them at {SHARED_DATA}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA
