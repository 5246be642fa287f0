"""course_utils.cifar10.models: the shapes in the comments, the summary's counts, the whitening layer."""

from __future__ import annotations

import pytest
import torch

from course_utils.cifar10.models import CourseCNN, FastCNN, init_whitening, summary


@pytest.mark.parametrize("width", [4, 16, 64])
def test_summary_shapes_and_parameter_counts_match_the_model(width):
    model = CourseCNN(width)
    rows = {row.name: row for row in summary(model, (2, 3, 32, 32))}
    w = width
    assert rows["conv1a"].output_shape == (2, w, 32, 32)
    assert rows["pool1"].output_shape == (2, w, 16, 16)
    assert rows["conv2b"].output_shape == (2, 2 * w, 16, 16)
    assert rows["pool3"].output_shape == (2, 4 * w, 4, 4)
    assert rows["flatten"].output_shape == (2, 4 * w * 16)
    assert rows["fc"].output_shape == (2, 10)
    assert rows["conv1a"].parameters == w * 3 * 3 * 3 == model.conv1a.weight.numel()
    assert rows["conv3b"].parameters == 4 * w * 4 * w * 9
    assert rows["norm2a"].parameters == 2 * 2 * w  # scale and shift per channel
    assert rows["fc"].parameters == 4 * w * 16 * 10 + 10
    assert summary(model).total_parameters == sum(p.numel() for p in model.parameters())


def test_summary_prints_one_line_per_layer_and_a_total():
    text = str(summary(CourseCNN(8)))
    assert len(text.splitlines()) == 1 + len(list(CourseCNN(8).children())) + 1
    assert "(1, 10)" in text and f"{sum(p.numel() for p in CourseCNN(8).parameters()):,}" in text


def test_slicing_the_model_runs_the_first_layers():
    torch.manual_seed(0)
    model = CourseCNN(8).eval()
    x = torch.randn(1, 3, 32, 32)
    first = model[:3](x)
    assert first.shape == (1, 8, 32, 32) and first.min() >= 0  # after ReLU
    assert torch.equal(model[3:](first), model(x))


def test_fast_network_scores_and_whitening():
    torch.manual_seed(0)
    images = torch.randn(64, 3, 32, 32)
    images[:, 1] = 0.8 * images[:, 0] + 0.2 * images[:, 1]  # correlated channels
    model = FastCNN((8, 16, 16))
    init_whitening(model.whiten, images)
    assert model(images[:2]).shape == (2, 10)
    out = model.whiten(images)[:, :12]  # (N, 12, 31, 31): the 12 whitened directions
    flat = out.permute(0, 2, 3, 1).reshape(-1, 12)
    covariance = torch.cov(flat.T)
    assert torch.allclose(covariance, torch.eye(12), atol=0.05)
