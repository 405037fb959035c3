"""The plan-file reference's worked example of adding an obligation does what it says."""

import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance


def test_adding_an_obligation_as_the_readme_shows(scheduler):
    readme = (ROOT / "docs" / "reference" / "plan-file.md").read_text(encoding="utf-8")
    example = re.search(r"## Example: adding an obligation.*?```toml\n(.*?)```", readme, re.S).group(1)
    plan = scheduler.cwd / "obligations.toml"
    plan.write_text(plan.read_text(encoding="utf-8") + "\n" + example, encoding="utf-8")

    assert scheduler("validate").returncode == 0
    listed = scheduler("expand", "--obligation", "37", "--format", "csv").stdout.splitlines()
    # 2022: 17 akimats existed on 15 January + ІІМ; 2023: 20 akimats + ІІМ (no 15 January 2021:
    # before the adoption)
    assert len(listed) - 1 == 18 + 21
    explained = scheduler("explain", "37:akimat-abai:2023").stdout
    assert "nominal due  2023-01-15 (Sunday" in explained
    assert "due          2023-01-13 (Friday" in explained
    assert "recipient    mvd" in explained
