"""The run layout (layout.py): a run's place reads back as the run, numbers are spelt one way in paths, and
text that is not a run's place is no run."""

import pytest

from neft.layout import RUN, Run, num, parse_run


@pytest.mark.parametrize(
    "value,text", [(0.3, "0.3"), (0.1 + 0.2, "0.3"), (1e-4, "0.0001"), (0, "0"), (0.0, "0"), (2, "2")]
)
def test_a_number_has_one_spelling_in_a_path(value, text):
    assert num(value) == text


@pytest.mark.parametrize(
    "run",
    [
        Run("vgg8", "mnist", "ovf-n1", 0.3, 0),
        Run("resnet18", "fashion_mnist", "vanilla", 0.0, 12),
        Run("vgg8", "synthetic", "irs-beta0.0001", 0.05, 3),
    ],
)
def test_a_runs_place_reads_back_as_the_run(run):
    assert run.id == RUN.format(**run.wildcards())
    assert parse_run(run.id) == run


@pytest.mark.parametrize(
    "text",
    [
        "vgg8/mnist/ovf/sd0..3/seed0",  # not a number
        "vgg8/mnist/ovf/sd0.3",  # no seed
        "vgg8/mnist/ovf/sd0.3/seed0/extra",
        "VGG8/mnist/ovf/sd0.3/seed0",  # names are lower case
        "vgg8/mnist/ovf-/sd0.3/seed0",  # a tag without a name
    ],
)
def test_text_that_is_not_a_runs_place_is_no_run(text):
    assert parse_run(text) is None
