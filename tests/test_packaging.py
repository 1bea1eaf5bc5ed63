"""pyproject.toml is the one place dependencies are declared; environment.yml follows it."""

import tomllib

import yaml

from analysis import config


def test_environment_yml_declares_no_pins_of_its_own():
    env = yaml.safe_load((config.PROJECT_ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert conda == ["python>=3.11", "pip"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-e .[dev]"]


def test_environment_yml_asks_for_the_python_pyproject_requires():
    project = tomllib.loads((config.PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((config.PROJECT_ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]
