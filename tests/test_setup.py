"""Set-up hygiene: pinned, host-free lock; lint-clean code; nothing secret or machine-bound committed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if line]


def test_lock_pins_every_package_and_names_no_registry_host():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) > 50
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-]+", line), f"not pinned: {line}"
    text = (ROOT / "requirements.lock").read_text()
    assert "://" not in text and "--index-url" not in text and "--find-links" not in text


def test_dagster_family_on_one_release_and_dbt_below_1_12():
    pins = dict(line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    # Dagster's integrations release as 0.(minor + 16).patch alongside core 1.minor.patch
    assert pins["dagster"] == pins["dagster-webserver"]
    assert pins["dagster-dbt"] == pins["dagster-duckdb"]
    core_major, core_minor, core_patch = pins["dagster"].split(".")
    lib_major, lib_minor, lib_patch = pins["dagster-dbt"].split(".")
    assert (core_major, lib_major) == ("1", "0")
    assert (int(lib_minor), lib_patch) == (int(core_minor) + 16, core_patch)
    major, minor = map(int, pins["dbt-core"].split(".")[:2])
    assert (major, minor) < (1, 12)


def test_no_committed_file_names_a_registry_host_or_machine_path():
    registry = re.compile(r"(pypi\.org|files\.pythonhosted|registry\.npmjs|/simple/)")
    machine = re.compile(r"(/work/main|/root/|/home/\w+/)")
    offenders = []
    for path in _tracked_files():
        if not path.is_file() or path.suffix in {".sqlite", ".duckdb", ".png"}:
            continue
        text = path.read_text(errors="ignore")
        if path.name != "test_setup.py" and (registry.search(text) or machine.search(text)):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
