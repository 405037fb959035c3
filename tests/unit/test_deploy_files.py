"""The container installs exactly what the project needs, pinned by hash."""

import re
import tomllib

from tests.conftest import ROOT


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_the_lock_pins_every_dependency_with_hashes():
    declared = names(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    text = (ROOT / "deploy" / "requirements.txt").read_text()
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\", text, re.M))
    assert declared <= {n.lower().replace("_", "-") for n in pinned}, "regenerate deploy/requirements.txt"
    hashed = re.findall(r"^[a-z0-9][a-z0-9._-]*==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.M)
    assert len(hashed) == len(pinned) > 20
    assert "file://" not in text and "/opt/" not in text


def test_the_image_runs_as_a_user_with_a_healthcheck_and_a_state_volume():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile
    final = dockerfile.split("FROM ")[-1]
    assert "USER scheduler" in final and "HEALTHCHECK" in final and 'VOLUME ["/app/var"]' in final
