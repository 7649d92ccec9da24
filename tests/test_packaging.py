"""Packaging: the wheel carries shaders, presets and seeds, and runs `myco check` from a fresh venv;
`make test` is what CI runs, and the README names exactly the two commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_the_resources_and_checks_clean_from_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("myco-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("presets/shows/kai-festival.toml", "presets/shows/elara-mural.toml",
                    "presets/kai-1-living-city.toml", "seeds/kai-city.toml", "seeds/elara-mural.png"):
        assert f"installation/_data/{shipped}" in names, shipped
    assert any(name.startswith("installation/_data/shaders/") for name in names)
    assert any(name.startswith("installation/_data/presets/midi/") for name in names)
    assert "installation/app/page/index.html" in names  # the status server's remote page

    # A fresh environment with the wheel and nothing of the checkout: its dependencies are
    # borrowed from this test environment's site-packages (no network needed), the package
    # itself comes only from the wheel.
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["MYCO_HOME"] = str(tmp_path / "home")
    where = subprocess.run([python, "-c", "import installation, installation.core.paths as p; "
                            "print(installation.__file__); print(p.resource_dir('presets'))"],
                           check=True, capture_output=True, text=True, cwd=tmp_path, env=env).stdout.split()
    assert where[0].startswith(str(fresh)) and where[1].startswith(str(fresh)), where
    result = subprocess.run([fresh / "bin" / "myco", "check", "--no-shaders"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"checked (\d+) files: 0 problems", result.stderr)
    assert int(re.search(r"checked (\d+) files", result.stderr).group(1)) >= 20  # type: ignore[union-attr]


def test_ci_runs_the_readme_test_command_and_the_readme_gives_two_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"
    assert all(command.startswith(("set -", "cd ")) for command in commands[:-1])
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The two commands.*?```sh\n(.*?)```", readme, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert lines == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\n\t@scripts/setup.sh test\n\t@scripts/test.sh", makefile, re.M)
    assert re.search(r"^run:.*\n\t@scripts/setup.sh run\n\t\.venv/bin/myco run", makefile, re.M)
