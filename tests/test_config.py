"""The config dataclasses (config.py): each field's type and limits are checked on every config, unknown keys
are refused naming the known ones, and the rules that tie fields together hold."""

import re

import pytest

from neft.config import EvalConfig, TrainConfig, from_dict
from neft.errors import ConfigError


def test_an_unknown_key_is_refused_naming_the_known_ones():
    with pytest.raises(ConfigError, match=r"run.yaml: unknown key 'sigma'; known keys: batch_size, beta, "):
        from_dict(TrainConfig, {"model": "vgg8", "sigma": 0.1}, where="run.yaml")
    with pytest.raises(ConfigError, match="unknown key 3"):  # YAML keys may be numbers
        from_dict(EvalConfig, {3: "x"})


@pytest.mark.parametrize(
    "values,says",
    [
        ({"epochs": 1.5}, "epochs must be int, got 1.5"),
        ({"epochs": True}, "epochs must be int, got True"),  # a bool is no number here
        ({"lr": "fast"}, "lr must be float or null, got 'fast'"),
        ({"epochs": 0}, "epochs must be >= 1, got 0"),
        ({"sigma_d": 1.5}, "sigma_d must be in [0, 1] (relative to a device's max conductance), got 1.5"),
        ({"lr": 0.0}, "lr must be > 0, got 0.0"),
        ({"select": "best"}, "select must be one of val, last; got 'best'"),
        ({"device": "gpu"}, "device must be auto, cpu, cuda or cuda:N; got 'gpu'"),
        ({"n_feedback": 6}, "n_feedback must be in 1..5, got 6"),
        ({"epochs": 2**63}, "epochs must be between -2**63 and 2**63 - 1"),
        ({"lr": float("nan")}, "lr must be a finite number, got nan"),
    ],
)
def test_a_field_outside_its_type_or_limits_is_refused(values, says):
    with pytest.raises(ConfigError) as error:
        TrainConfig(**values)
    assert says in str(error.value)


def test_an_int_is_a_float_where_a_float_is_asked():
    cfg = TrainConfig(lr=1, sigma_d=0)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and isinstance(cfg.sigma_d, float)


def test_lists_are_of_numbers_and_long_enough():
    assert EvalConfig(sigmas=[0, 0.1]).sigmas == [0, 0.1]
    with pytest.raises(ConfigError, match="sigmas must list at least 1 value"):
        EvalConfig(sigmas=[])
    with pytest.raises(ConfigError, match="sigmas must be a list of numbers"):
        EvalConfig(sigmas=[0.1, "0.2"])


@pytest.mark.parametrize(
    "values,says",
    [
        ({"method": "vanilla", "sigma_d": 0.1}, "method vanilla trains without noise: sigma_d must be 0"),
        ({"method": "ovf", "n_draws": 4}, "n_draws is an option of method noise, not ovf"),
        ({"method": "noise", "positive_feedback": True}, "positive_feedback is an option of the NFT methods"),
        ({"step": "graph", "device": "cpu"}, "step graph captures CUDA graphs and needs a CUDA device"),
        ({"model": "vgg11"}, "unknown model 'vgg11'; choose one of: resnet18, vgg8"),
    ],
)
def test_fields_that_belong_together_are_checked_together(values, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        TrainConfig(**values)


def test_the_learning_rate_defaults_per_model():
    assert TrainConfig(model="vgg8").learning_rate == 1e-3
    assert TrainConfig(model="resnet18").learning_rate == 1e-2
    assert TrainConfig(model="resnet18", lr=0.5).learning_rate == 0.5
