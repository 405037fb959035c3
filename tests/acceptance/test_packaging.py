"""The built wheel (what `pip install .` and the Docker image install) carries every non-Python file
the program reads: migrations and templates."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance


def test_the_wheel_carries_migrations_and_templates(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    names = set(zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist())
    package = ROOT / "scheduler"
    needed = [str(p.relative_to(ROOT)) for p in package.rglob("*")
              if p.suffix == ".mako" or "versions" in p.parts and p.suffix == ".py"]
    # The templates at the repository's root ship inside the package, and the catalogs compiled.
    needed += ["scheduler/" + str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.j2")]
    needed += ["scheduler/" + str(p.relative_to(ROOT).with_suffix(".mo")) for p in (ROOT / "locale").rglob("*.po")]
    assert len(needed) > 40
    missing = sorted(p for p in needed if p not in names)
    assert missing == []
    assert "scheduler/store/migrations/env.py" in names and Path("scheduler/py.typed").as_posix() in names
