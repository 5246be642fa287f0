"""course_utils.cifar10.attribution: saliency and Grad-CAM equal a direct torch.autograd
computation, Grad-CAM has its defining properties, the measured footprint of a CourseCNN unit is
the formula's receptive field, and on a trained model the maps fall on the shapes (the figures
lesson 07 quotes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.cifar10.attribution import (
    class_scores,
    grad_cam,
    input_footprint,
    layer_geometry,
    mass_inside,
    saliency,
)
from course_utils.cifar10.augment import DeviceBatches, normalize
from course_utils.cifar10.fake_data import fake_images
from course_utils.cifar10.models import CourseCNN
from course_utils.cifar10.training import TrainConfig, train
from course_utils.reference import max_pool2d
from course_utils.reference.receptive_field import receptive_fields, unit_box

LAYERS_WITH_MAPS = ["relu1b", "pool1", "relu2a", "relu2b", "relu3a", "relu3b", "pool3"]


def random_model(seed: int, width: int = 4) -> CourseCNN:
    torch.manual_seed(seed)
    model = CourseCNN(width).double()
    for module in model.modules():      # non-trivial BatchNorm statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def random_batch(seed: int, n: int):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, 32, 32, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, 10, (n,), generator=generator)
    return images, targets


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 3))
def test_saliency_is_the_largest_absolute_input_gradient_over_colours(seed, n):
    model = random_model(seed)
    images, targets = random_batch(seed, n)
    ours = saliency(model, images, targets)
    for i in range(n):
        x = images[i:i + 1].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(x)[0, targets[i]], x)
        np.testing.assert_allclose(ours[i], grad[0].abs().amax(0).numpy(), rtol=1e-10, atol=1e-14)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 3), layer=st.sampled_from(LAYERS_WITH_MAPS))
def test_grad_cam_equals_its_definition_computed_image_by_image(seed, n, layer):
    model = random_model(seed)
    images, targets = random_batch(seed, n)
    ours = grad_cam(model, images, targets, layer, upsample=False)
    cut = [name for name, _ in model.named_children()].index(layer) + 1
    for i in range(n):
        features = model[:cut](images[i:i + 1])
        (grad,) = torch.autograd.grad(model[cut:](features)[0, targets[i]], features)
        alpha = grad[0].mean(dim=(1, 2))                                    # (K,)
        expected = torch.relu((alpha[:, None, None] * features[0]).sum(0))
        np.testing.assert_allclose(ours[i], expected.detach().numpy(), rtol=1e-10, atol=1e-14)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), layer=st.sampled_from(LAYERS_WITH_MAPS),
       scale=st.floats(0.1, 10.0))
def test_grad_cam_properties(seed, layer, scale):
    model = random_model(seed)
    images, targets = random_batch(seed, 3)
    small = grad_cam(model, images, targets, layer, upsample=False)
    large = grad_cam(model, images, targets, layer)
    assert (small >= 0).all() and (large >= 0).all()
    assert large.shape == (3, 32, 32)
    resized = F.interpolate(torch.from_numpy(small)[:, None], size=(32, 32), mode="bilinear",
                            align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(large, resized, rtol=1e-12, atol=1e-14)
    # Each image's map is its own: a batch gives what the images give one at a time.
    np.testing.assert_allclose(small[1], grad_cam(model, images[1:2], targets[1:2], layer,
                                                  upsample=False)[0], rtol=1e-10, atol=1e-14)
    # The score is linear in the last layer's weights: scaling them by c > 0 scales the map by c.
    with torch.no_grad():
        model.fc.weight.mul_(scale)
        model.fc.bias.mul_(scale)
    np.testing.assert_allclose(grad_cam(model, images, targets, layer, upsample=False),
                               scale * small, rtol=1e-9, atol=1e-12)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), layer=st.sampled_from(LAYERS_WITH_MAPS))
def test_grad_cam_is_the_relu_of_the_weighted_sum_so_it_is_all_zero_where_the_sum_is_negative(
        seed, layer):
    model = random_model(seed)
    images, targets = random_batch(seed, 4)
    sums = grad_cam(model, images, targets, layer, upsample=False, relu=False)
    maps = grad_cam(model, images, targets, layer, upsample=False)
    np.testing.assert_allclose(maps, np.maximum(sums, 0), rtol=0, atol=0)
    all_zero = grad_cam(model, images, targets, layer).max(axis=(1, 2)) == 0
    np.testing.assert_array_equal(all_zero, sums.max(axis=(1, 2)) <= 0)


def test_grad_cam_names_the_layers_it_knows():
    with pytest.raises(ValueError, match="no layer 'conv9'.*relu1a"):
        grad_cam(random_model(0), *random_batch(0, 1), layer="conv9")


@pytest.mark.parametrize("name", ["conv1b", "pool1", "conv2b", "conv3a", "conv3b"])
def test_the_measured_footprint_of_a_course_cnn_unit_is_its_receptive_field(name):
    model = random_model(1).float()
    layers = layer_geometry(model)
    field = next(f for f in receptive_fields(layers, 32) if f.name == name)
    cut = [layer.name for layer in layers].index(name) + 1
    images = torch.randn(32, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    for row, col in [(0, 0), (field.output_size // 2, field.output_size - 1)]:
        reached = input_footprint(model[:cut], images, channel=1, row=row, col=col) > 0
        top, left, height, width = unit_box(field, row, col, 32)
        expected = np.zeros((32, 32), dtype=bool)
        expected[top:top + height, left:left + width] = True
        np.testing.assert_array_equal(reached, expected)


def test_layer_geometry_reads_course_cnn():
    layers = layer_geometry(CourseCNN(4))
    convs = [layer for layer in layers if layer.name.startswith("conv")]
    pools = [layer for layer in layers if layer.name.startswith("pool")]
    assert [(l.kernel, l.stride, l.padding) for l in convs] == [(3, 1, 1)] * 6
    assert [(l.kernel, l.stride, l.padding) for l in pools] == [(2, 2, 0)] * 3
    assert layers[-1].name == "pool3" and len(layers) == 21


def test_mass_inside_worked_examples():
    masks = np.zeros((3, 4, 4), dtype=bool)
    masks[:, :2, :2] = True                                  # a quarter of the pixels
    maps = np.stack([masks[0] * 3.0, np.ones((4, 4)), np.zeros((4, 4))])
    overlap = mass_inside(maps, masks)
    np.testing.assert_allclose(overlap.inside, [1.0, 0.25, 0.25])   # all / even / empty map
    np.testing.assert_allclose(overlap.area, [0.25, 0.25, 0.25])
    assert overlap.ratio == pytest.approx(2.0)
    with pytest.raises(ValueError, match="non-negative"):
        mass_inside(-maps, masks)


# --------------------------------------------------------------------------------------------
# The figures lesson 07 quotes: a model trained as in the notebook (its default settings).
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_on_shapes():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rng = np.random.default_rng(0)
        train_images, train_labels = fake_images(2000, rng)
        test_images, test_labels, test_masks = fake_images(500, rng, with_masks=True)
        torch.manual_seed(0)
        model = CourseCNN(8)
        batches = DeviceBatches(torch.from_numpy(train_images), torch.from_numpy(train_labels), 64,
                                shuffle=True)
        test_batches = DeviceBatches(torch.from_numpy(test_images), torch.from_numpy(test_labels), 250)
        config = TrainConfig(epochs=4, lr=0.05, flip_tta=False, evaluate_each_epoch=False)
        history = train(model, batches, test_batches, config, device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
    return model, history, test_images, test_labels, test_masks


@pytest.mark.slow
def test_saliency_and_grad_cam_fall_on_the_shape_well_above_chance(trained_on_shapes):
    model, history, images, labels, masks = trained_on_shapes
    assert history.final_test_accuracy > 0.8
    inputs = normalize(torch.from_numpy(images))
    assert (class_scores(model, inputs).argmax(1) == labels).mean() == pytest.approx(
        history.final_test_accuracy)
    area = np.array([masks[labels == k].mean() for k in range(10)])
    chosen = np.isin(labels, np.flatnonzero(area < 0.3))    # the classes with a small shape
    assert chosen.sum() >= 100
    for name, maps in (("saliency", saliency(model, inputs, labels)),
                       ("Grad-CAM", grad_cam(model, inputs, labels, "relu2b"))):
        overlap = mass_inside(maps[chosen], masks[chosen])
        peak_inside = np.mean([m.flat[s.argmax()] for s, m in zip(maps[chosen], masks[chosen])])
        near = max_pool2d(masks[chosen].astype(float), 3, stride=1, padding=1) > 0
        print(f"{name}: mass inside the mask {overlap.inside.mean():.1%} vs chance "
              f"{overlap.area.mean():.1%} ({overlap.ratio:.2f}x); within 1 pixel "
              f"{mass_inside(maps[chosen], near).inside.mean():.1%} vs {near.mean():.1%}; "
              f"brightest pixel inside {peak_inside:.1%}")
        assert overlap.ratio > 1.6, f"{name}: only {overlap.ratio:.2f}x chance"
        assert peak_inside > 2.5 * overlap.area.mean(), name
