"""The key file behind contacts' feed links (and the dashboard's form tokens): written whole or not
at all, and a file left empty or cut short by a full disk is made again instead of stopping mail."""

import logging
import stat
import subprocess
import sys
import textwrap
import threading

import pytest

from scheduler.errors import SchedulerError
from scheduler.feeds.tokens import load_or_create_key


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_key_is_made_with_mode_0600_and_kept(tmp_path):
    path = tmp_path / "var" / "secret.key"
    path.parent.mkdir()  # a folder the user names is never made (only the defaults' own var/)
    key = load_or_create_key(path)
    assert len(key) == 32 and mode(path) == 0o600
    assert path.read_text(encoding="ascii") == key.hex() + "\n"
    assert load_or_create_key(path) == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.key"], "no temporary file left behind"


@pytest.mark.parametrize("left", ["", "\n", "3f9a", "3f9a0c1", "ab" * 31])
def test_an_empty_or_cut_short_key_file_is_made_again_with_a_warning(tmp_path, caplog, left):
    path = tmp_path / "secret.key"
    path.write_text(left, encoding="ascii")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        key = load_or_create_key(path)
    assert len(key) == 32 and path.read_text(encoding="ascii") == key.hex() + "\n" and mode(path) == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage() and "new key" in warnings[0].getMessage()
    assert load_or_create_key(path) == key


def test_a_key_file_that_is_not_a_key_still_stops(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("correct horse battery staple\n", encoding="ascii")
    with pytest.raises(SchedulerError, match="SCHEDULER_SECRET_KEY_FILE"):
        load_or_create_key(path)
    assert path.read_text(encoding="ascii") == "correct horse battery staple\n", "an operator's file is not replaced"


def test_a_full_disk_leaves_no_half_written_key(tmp_path):
    """The kernel's file-size limit stands in for a full disk: every write past 20 bytes fails."""
    path = tmp_path / "secret.key"
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from pathlib import Path
        from scheduler.errors import SchedulerError
        from scheduler.feeds.tokens import load_or_create_key
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20, 20))
        try:
            load_or_create_key(Path({str(path)!r}))
        except SchedulerError as error:
            print("refused:", error)
            sys.exit(3)
        sys.exit(0)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "SCHEDULER_SECRET_KEY_FILE" in result.stdout and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "neither a cut-short key nor a temporary file is left"
    key = load_or_create_key(path)  # the disk has room again
    assert len(key) == 32 and load_or_create_key(path) == key


@pytest.mark.parametrize("left", [None, ""])
def test_instances_starting_together_agree_on_one_key(tmp_path, left):
    path = tmp_path / "secret.key"
    if left is not None:
        path.write_text(left, encoding="ascii")
    keys, start = [], threading.Barrier(8)

    def one():
        start.wait()
        keys.append(load_or_create_key(path))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert path.read_text(encoding="ascii") == keys[0].hex() + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


def test_a_key_file_in_a_directory_that_does_not_exist_is_refused_and_nothing_is_made(tmp_path):
    from scheduler.errors import BadInput
    from scheduler.feeds.tokens import load_or_create_key

    key = tmp_path / "nonexistent" / "dir" / "secret.key"
    with pytest.raises(BadInput) as refused:
        load_or_create_key(key)
    assert refused.value.exit_code == 2
    assert str(refused.value).startswith(f"SCHEDULER_SECRET_KEY_FILE: the directory {key.parent} does not exist "
                                         f"({tmp_path}/nonexistent is missing)")
    assert not (tmp_path / "nonexistent").exists()
    assert len(load_or_create_key(tmp_path / "secret.key")) >= 32  # in an existing folder: made
