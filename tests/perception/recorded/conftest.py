"""One simulator rendering shared by the recorded-feed tests."""

from __future__ import annotations

import pytest

from tests.perception.recorded.bags import render


@pytest.fixture(scope="package")
def rendered() -> tuple[list, list]:
    """Simulator truth and three top-camera frames of the test scene."""
    return render(3)
