"""Every setting is checked at start-up by type and range, with a message naming the key, the file and what
is allowed (issue 25)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from indexer.config import LIMITS, PROJECT_ROOT, Settings, load_settings
from indexer.errors import ConfigError

SECTION = "indexer"     # sections only group the keys: any known section takes any key


def wrong_values(name: str, default) -> list:
    """Values setting NAME must refuse."""
    if isinstance(default, Path):
        return [5, True]
    if isinstance(default, bool):
        return ["yes", 1]
    if isinstance(default, (int, float)):
        low, high = LIMITS[name]
        wrong = ["10", True, low - 1]
        if high != float("inf"):
            wrong.append(high + 1)
        if isinstance(default, int):
            wrong.append(low + 0.5)
        return wrong
    wrong: list = [5, False]
    if name in ("host", "ocr_languages"):
        wrong.append("")
    if name == "ocr_languages":
        wrong.append("eng chi_sim; rm")
    if name == "admin_password_hash":
        wrong.append("my password")
    return wrong


SETTINGS = [f for f in fields(Settings) if f.name != "config_file"]
CASES = [(f.name, value) for f in SETTINGS for value in wrong_values(f.name, f.default)]


def test_every_number_setting_has_a_range():
    numbers = {f.name for f in SETTINGS if isinstance(f.default, (int, float)) and not isinstance(f.default, bool)}
    assert numbers == set(LIMITS)


@pytest.mark.parametrize("name,value", CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_a_wrong_value_is_refused_naming_the_key_and_the_file(tmp_path, name, value):
    config = tmp_path / "config.toml"
    config.write_text(f"[{SECTION}]\n{name} = {json.dumps(value)}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    message = str(refused.value)
    assert message.startswith(f"{config.resolve()}: ") and repr(name) in message
    assert "must" in message


@pytest.mark.parametrize("name", [f.name for f in SETTINGS])
def test_the_default_of_every_setting_is_accepted(tmp_path, name):
    default = next(f.default for f in SETTINGS if f.name == name)
    value = str(default) if isinstance(default, Path) else default
    config = tmp_path / "config.toml"
    config.write_text(f"[{SECTION}]\n{name} = {json.dumps(value)}\n", encoding="utf-8")
    load_settings(config)


def test_the_message_says_what_is_allowed(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[search]\npage_size = -5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'page_size' must be a whole number from 1 to 1000, not -5"):
        load_settings(config)


def test_the_server_refuses_to_start_with_a_wrong_value(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[search]\npage_size = -5\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "webapp", "--config", str(config)], capture_output=True, text=True,
                         timeout=60, env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 2 and "page_size" in run.stderr and str(config) in run.stderr


def test_the_project_config_loads():
    load_settings(PROJECT_ROOT / "config.toml")
