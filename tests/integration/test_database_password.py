"""SCHEDULER_DATABASE_PASSWORD_FILE on the real PostgreSQL: the password goes into the URL escaped
(compose.yaml's way of passing it), the connection works, and no output shows it."""

import os
import shutil
import subprocess
import sys

from sqlalchemy.engine import make_url

from tests.conftest import ROOT

AWKWARD = "p@ss/w%rd:#?x"


def test_sync_with_the_password_from_a_file(postgres_url, tmp_path):
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    secret = tmp_path / "postgres_password"
    secret.write_text(AWKWARD + "\n")
    url = make_url(postgres_url).set(password=None).render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update(SCHEDULER_DATABASE_URL=url, SCHEDULER_DATABASE_PASSWORD_FILE=str(secret))
    result = subprocess.run([sys.executable, "-m", "scheduler", "sync"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert AWKWARD not in result.stdout + result.stderr and "p@ss" not in result.stdout + result.stderr
    masked = make_url(url).set(password=AWKWARD).render_as_string(hide_password=True)  # postgres:***@…
    assert result.stdout.startswith(f"synced {masked}: occurrences: "), result.stdout
