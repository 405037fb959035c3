import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import forkserver
from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance


@pytest.fixture
def scheduler(tmp_path):
    """Run the installed `scheduler` command in a scratch directory holding a copy of the plan
    (started as a fork of a process that has imported the libraries: tests/forkserver.py)."""
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    command = shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")
    assert command, "the `scheduler` console script is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}

    def run(*args: str, env_extra: dict | None = None, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return forkserver.run([command, *args], env={**env, **(env_extra or {})}, cwd=cwd, timeout=60)

    run.cwd = tmp_path
    return run
