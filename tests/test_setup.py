"""The set-up files agree with each other: one package list, two front doors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalise(requirement: str) -> str:
    name = re.split(r"[<>=!\[ ;]", requirement.strip(), maxsplit=1)[0]
    return requirement.strip().replace(name, name.lower().replace("_", "-"), 1).replace(" ", "")


def test_environment_yml_installs_the_same_runtime_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {normalise(r) for r in project["dependencies"]}
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    pip_section = [line.strip()[2:] for line in lines[start + 1:] if line.strip().startswith("- ")]
    listed = {normalise(r) for r in pip_section if not r.startswith("-e")}
    assert listed == runtime, f"only in environment.yml: {listed - runtime}; only in pyproject: {runtime - listed}"
    assert "- -e .[dev]" in [line.strip() for line in lines], "environment.yml must install the course package"
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_torch_and_torchvision_are_pinned_as_a_matching_pair():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.14.1" in deps and "torchvision==0.29.1" in deps
    import torch
    import torchvision

    assert torch.__version__.split("+")[0] == "2.14.1"
    assert torchvision.__version__.split("+")[0] == "0.29.1"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme_top = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make lab" in readme_top and "make test" in readme_top
