"""The analysis's frame (grid.py): built from the checked config the workflow writes (results/<name>/config.json),
read back checked."""

import json

import pytest
from made_runs import checked_config

from neft.analysis.grid import Grid, Setting, from_config, read_grid
from neft.errors import NeftError


def test_the_grid_is_the_checked_configs():
    config = checked_config(
        sigma_d=[0.1, 0.3],
        seeds=[0, 1],
        beta={"irs": 0.02},
        convergence={"threshold": 4, "methods": ["noise", "ovf"]},
        report={"stand_ins": {"mnist": "fashion_mnist"}},
    )
    grid = from_config(config)
    assert grid == Grid(
        "unit",
        [0.1, 0.3],
        [0, 1],
        ablation=Setting("resnet18", "cifar10", 0.3, (0, 1, 2, 3, 4)),  # the schema's defaults: the paper's setting
        convergence=Setting("vgg8", "mnist", 0.35, tuple(range(10))),
        convergence_methods=["noise", "ovf"],
        threshold=4.0,
        stand_ins={"mnist": "fashion_mnist"},
        beta={"ovf": "default", "irs": "0.02"},
    )
    assert isinstance(grid.threshold, float)  # the convergence table writes it: 4.0, as a YAML 4.0 would give


def test_a_disabled_setting_is_none():
    grid = from_config(checked_config(ablations={"enabled": False}, convergence={"enabled": False}))
    assert grid.ablation is None and grid.convergence is None


def test_config_json_is_read_checked(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(checked_config(seeds=[3])))
    assert read_grid(path).seeds == [3]
    path.write_text(json.dumps({**checked_config(), "convergence": {"enabled": True}}))
    with pytest.raises(NeftError, match="config.json: missing key convergence.model, so not a complete 'config.json'"):
        read_grid(path)
