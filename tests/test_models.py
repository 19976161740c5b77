"""Models, parametrized over the registry: shapes, NaN-free outputs, gradients, reference sizes,
the initialisation of the models and the IRS heads."""

import math

import pytest
import torch
from torch import nn

from neft.config import TrainConfig
from neft.layers import NoisyWeight, noisy_layers
from neft.methods import METHODS
from neft.models import MODELS, build_model

SETTINGS = [(1, 10, 32), (3, 100, 32), (3, 200, 64)]  # MNIST-like, CIFAR-100, Tiny ImageNet


@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("in_channels,num_classes,size", SETTINGS)
def test_shapes_finite_and_every_parameter_gets_a_gradient(name, in_channels, num_classes, size):
    torch.manual_seed(0)
    model = build_model(name, in_channels, num_classes, size, width=0.125)
    x = torch.randn(4, in_channels, size, size)
    logits, features = model(x, taps=True)
    assert logits.shape == (4, num_classes)
    assert torch.isfinite(logits).all()
    assert [f.shape[1] for f in features] == [c for c, _ in model.irs_taps]
    (logits.sum() + sum(f.sum() for f in features)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", MODELS.names())
def test_noise_goes_on_every_conv_and_linear_first_and_last_included(name):
    model = build_model(name, 3, 10, 32)
    layers = noisy_layers(model)
    convs_linears = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers == convs_linears
    assert layers[0].in_channels == 3 and layers[-1].out_features == 10
    assert not any(isinstance(m, NoisyWeight) for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_reference_sizes():
    # VGG-8: convs 64,128,256,256,512,512 (no bias) + BN, FC 8192->1024->10
    convs = 3 * 64 * 9 + 64 * 128 * 9 + 128 * 256 * 9 + 256 * 256 * 9 + 256 * 512 * 9 + 512 * 512 * 9
    bn = 2 * (64 + 128 + 256 + 256 + 512 + 512)
    assert n_params(build_model("vgg8", 3, 10, 32)) == convs + bn + 8192 * 1024 + 1024 + 1024 * 10 + 10
    assert build_model("vgg8", 3, 200, 64).fc1.in_features == 512 * 8 * 8  # FC input follows the input size
    assert build_model("vgg8", 1, 10, 32).fc1.in_features == 8192
    assert n_params(build_model("resnet18", 3, 10, 32)) == 11_173_962  # CIFAR ResNet-18
    shortcuts = [
        m for m in build_model("resnet18", 3, 10, 32).modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
    ]
    assert [(s.in_channels, s.out_channels, s.stride) for s in shortcuts] == [
        (64, 128, (2, 2)),
        (128, 256, (2, 2)),
        (256, 512, (2, 2)),
    ]


def test_width_multiplier_scales_channels():
    narrow = build_model("resnet18", 3, 10, 32, width=0.25)
    assert narrow.stem[0].out_channels == 16 and narrow.fc.in_features == 128
    assert narrow.args == dict(
        name="resnet18", in_channels=3, num_classes=10, image_size=32, width=0.25, init="reference"
    )


def built(name: str, part: str, init: str) -> nn.Module:
    """The model, or its IRS heads (all five snapshot places), built as the trainer builds them."""
    torch.manual_seed(0)
    model = build_model(name, 3, 10, 32, width=0.25, init=init)
    if part == "model":
        return model
    cfg = TrainConfig(model=name, dataset="synthetic", method="irs", sigma_d=0.2, n_feedback=5, width=0.25, init=init)
    return METHODS.get("irs")(cfg, model, cfg.noise_law()).heads


def relative_std(layer: nn.Module, fan: str) -> float:
    """The weights' std over the init's std: kaiming-normal fan_out, ReLU gain (sqrt(2 / fan_out)), or
    PyTorch's default (uniform with bound 1 / sqrt(fan_in): std 1 / sqrt(3 fan_in))."""
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(layer.weight)
    expected = math.sqrt(2 / fan_out) if fan == "kaiming fan_out" else 1 / math.sqrt(3 * fan_in)
    return layer.weight.std().item() / expected


@pytest.mark.parametrize("part", ["model", "IRS heads"])
@pytest.mark.parametrize("name", MODELS.names())
def test_reference_init_is_kaiming_fan_out_and_pytorch_keeps_the_defaults(name, part):
    reference, pytorch = built(name, part, "reference"), built(name, part, "pytorch")
    layers = [m for m in reference.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(relative_std(m, "kaiming fan_out") == pytest.approx(1, abs=0.2) for m in layers)
    assert all(m.bias is None or not m.bias.any() for m in layers)
    norms = [m for m in reference.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all((m.weight == 1).all() and not m.bias.any() for m in norms) and (part != "model" or norms)
    defaults = [m for m in pytorch.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert all(relative_std(m, "pytorch default") == pytest.approx(1, abs=0.2) for m in defaults)
    unlike_reference = [abs(relative_std(m, "kaiming fan_out") - 1) > 0.2 for m in defaults]
    assert sum(unlike_reference) > len(defaults) / 2
