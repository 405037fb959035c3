"""The container installs exactly what the project needs, pinned by hash."""

import re
import shlex
import stat
import subprocess
import tomllib

from scheduler.settings import Settings
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
    image = re.search(r"^    image: ([\w-]+):latest$", (ROOT / "compose.yaml").read_text(), re.M).group(1)
    build = f"docker build -t {image} ."
    assert build in dockerfile and build in (ROOT / "docs" / "admin" / "install.md").read_text(encoding="utf-8")


def readme_block(heading: str) -> str:
    """The first ```sh block after a heading of the administrator's install page."""
    text = (ROOT / "docs" / "admin" / "install.md").read_text(encoding="utf-8")
    after = text[text.index(heading):]
    return after[after.index("```sh\n") + 6: after.index("\n```", after.index("```sh\n"))]


def readme_section(heading: str) -> str:
    text = (ROOT / "docs" / "admin" / "install.md").read_text(encoding="utf-8")
    after = text[text.index(heading) + len(heading):]
    return after[: after.index("\n## ")]


def install_commands() -> list[list[str]]:
    block = readme_block("## Installing on a server (systemd)")
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def settings_names() -> set[str]:
    return {f"SCHEDULER_{name.upper()}" for name in Settings.model_fields}


def test_every_file_the_install_copies_is_in_the_repository():
    sources = []
    for words in install_commands():
        for command in " ".join(words).split(" && "):
            parts = command.split()
            if parts[:1] == ["install"] and "-d" not in parts:
                operands = [p for i, p in enumerate(parts[1:], 1) if not p.startswith("-") and parts[i - 1] not in ("-m", "-o", "-g")]
                sources += operands[:-1]
            if "-r" in parts:
                sources.append(parts[parts.index("-r") + 1])
    sources = [s for s in sources if not s.startswith("/dev/")]
    assert "obligations.toml" in sources and any(s.endswith("contacts.csv") for s in sources)
    missing = [s for s in sources if not (ROOT / s).is_file()]
    assert missing == [], f"the README's install copies files a clone does not have: {missing}"


def test_every_file_the_settings_name_is_made_by_an_install_step():
    env = (ROOT / "deploy" / "scheduler.env.example").read_text(encoding="utf-8")
    block = readme_block("## Installing on a server (systemd)")
    named = dict(re.findall(r"^(SCHEDULER_\w+_FILE)=(\S+)", env, re.M))
    optional = dict(re.findall(r"^#\s*(SCHEDULER_\w+_FILE)=(\S+)", env, re.M))
    assert "SCHEDULER_ADMIN_PASSWORD_FILE" in named and "SCHEDULER_SMTP_PASSWORD_FILE" in optional
    # the feed-link key is made by the program itself on first use (mode 0600, in its state directory)
    unmade = [f"{k}={v}" for k, v in named.items() if k != "SCHEDULER_SECRET_KEY_FILE" and v not in block]
    assert unmade == [], f"no install step creates {unmade}"
    section = readme_section("## Installing on a server (systemd)")
    unexplained = [f"{k}={v}" for k, v in optional.items() if v not in section]
    assert unexplained == [], f"the README does not say how to make {unexplained}"
    service = (ROOT / "deploy" / "scheduler.service").read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/scheduler/scheduler.env" in service and "/etc/scheduler/scheduler.env" in block
    assert "ExecStart=/opt/scheduler/venv/bin/scheduler run" in service and "python3 -m venv /opt/scheduler/venv" in block
    assert "WorkingDirectory=/var/lib/scheduler" in service and "--home-dir /var/lib/scheduler" in block
    documentation = re.search(r"^Documentation=file://(\S+)", service, re.M)
    assert documentation is None or documentation.group(1) in block


def test_deployment_files_name_only_real_settings():
    files = ["deploy/scheduler.env.example", "deploy/scheduler.service", "compose.yaml", "Dockerfile", "README.md", "docs/admin/install.md"]
    known = settings_names() | {"SCHEDULER_TEST_DATABASE_URL"}  # the test suite's own variable
    for name in files:
        used = set(re.findall(r"\bSCHEDULER_[A-Z0-9_]*[A-Z0-9]\b", (ROOT / name).read_text(encoding="utf-8")))
        assert used - known == set(), f"{name} names settings that do not exist: {sorted(used - known)}"
    assert {"SCHEDULER_SMTP_PASSWORD_FILE", "SCHEDULER_DATABASE_PASSWORD_FILE"} <= settings_names()


def test_compose_publishes_only_on_loopback_and_passes_the_database_password_as_a_file():
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    ports = re.findall(r"ports:\s*\[([^\]]*)\]", compose) + re.findall(r"ports:\s*\n((?:\s+- .*\n)+)", compose)
    published = [p.strip(" -\"'\n") for group in ports for p in re.split(r"[,\n]", group) if p.strip(" -\"'\n")]
    assert published and all(p.startswith("127.0.0.1:") for p in published), published
    assert "$(cat" not in compose and "$$(cat" not in compose and "entrypoint" not in compose
    assert "SCHEDULER_DATABASE_PASSWORD_FILE: /run/secrets/postgres_password" in compose
    assert re.search(r"SCHEDULER_DATABASE_URL: postgresql\+psycopg://scheduler@postgres:5432/scheduler\n", compose)
    readme = (ROOT / "docs" / "admin" / "install.md").read_text(encoding="utf-8")
    for secret in re.findall(r"file: \./(secrets/\w+)", compose):
        assert f"> {secret}" in readme, f"the README does not say to create ./{secret}"
    docker = readme[readme.index("## Docker"):readme.index("## Backups")]
    assert "TLS" in docker and "127.0.0.1:8080" in docker


def test_the_readmes_docker_steps_make_every_secret_compose_mounts(tmp_path):
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    subprocess.run(["sh", "-ec", readme_block("## Docker")], cwd=tmp_path, check=True, timeout=60)
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    for secret in re.findall(r"file: \./(secrets/\w+)", compose):
        path = tmp_path / secret
        assert path.read_text().strip() and stat.S_IMODE(path.stat().st_mode) == 0o644, secret
