"""environment.yml (conda) and pyproject.toml must name the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_pyproject_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra if not r.startswith("synthlab")}

    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    named = set()
    for entry in conda:
        if isinstance(entry, dict):
            named |= {_name(r) for r in entry["pip"] if not r.startswith("-e")}
        else:
            named.add(_name(entry))
    assert named - {"python", "pip"} == wanted
