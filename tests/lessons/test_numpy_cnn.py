"""The lesson 06 network: numpy gradients equal torch.autograd, and SGD tracks PyTorch step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import numpy_cnn
from course_utils.gradcheck import numerical_gradient, rel_error


@pytest.fixture(scope="module")
def data():
    return numpy_cnn.line_images(n_per_class=32, seed=0)


def torch_loss_and_gradients(params, images, labels):
    weights = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    x = F.conv2d(torch.tensor(images), weights["conv_w"], weights["conv_b"], padding=numpy_cnn.PADDING)
    x = F.max_pool2d(F.relu(x), numpy_cnn.POOL)
    scores = F.linear(x.flatten(1), weights["dense_w"], weights["dense_b"])
    loss = F.cross_entropy(scores, torch.tensor(labels))
    loss.backward()
    return loss.item(), {name: value.grad.numpy() for name, value in weights.items()}


def test_line_images_are_balanced_reproducible_and_show_their_line(data):
    images, labels = data
    assert images.shape == (96, 1, 10, 10) and images.dtype == np.float64
    assert np.bincount(labels).tolist() == [32, 32, 32]
    again_images, again_labels = numpy_cnn.line_images(n_per_class=32, seed=0)
    np.testing.assert_array_equal(images, again_images)
    np.testing.assert_array_equal(labels, again_labels)
    # A horizontal line makes one row bright; a vertical one, one column.
    row_peak = images[:, 0].mean(axis=2).max(axis=1)
    col_peak = images[:, 0].mean(axis=1).max(axis=1)
    assert np.all(row_peak[labels == 0] > col_peak[labels == 0])
    assert np.all(col_peak[labels == 1] > row_peak[labels == 1])


def test_softmax_cross_entropy_equals_torch_even_for_huge_scores():
    scores = np.array([[1000.0, -1000.0, 3.0], [0.1, 0.2, 0.3]])
    labels = np.array([1, 2])
    loss, grad = numpy_cnn.softmax_cross_entropy(scores, labels)
    scores_t = torch.tensor(scores, requires_grad=True)
    expected = F.cross_entropy(scores_t, torch.tensor(labels))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(grad, scores_t.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_every_parameter_gradient_equals_torch_autograd(data):
    images, labels = data
    params = numpy_cnn.init_params(seed=3)
    params["conv_b"] = np.random.default_rng(4).standard_normal(params["conv_b"].shape) * 0.1
    loss, grads = numpy_cnn.loss_and_gradients(params, images, labels)
    expected_loss, expected = torch_loss_and_gradients(params, images, labels)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for name in numpy_cnn.PARAMETER_NAMES:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-10, atol=1e-13, err_msg=name)


def test_the_network_passes_a_numerical_gradient_check():
    images, labels = numpy_cnn.line_images(n_per_class=2, size=6, seed=5)
    params = numpy_cnn.init_params(image_size=6, filters=2, seed=6)
    _, grads = numpy_cnn.loss_and_gradients(params, images, labels)
    for name in numpy_cnn.PARAMETER_NAMES:
        numerical = numerical_gradient(
            lambda _: numpy_cnn.loss_and_gradients(params, images, labels)[0], params[name]
        )
        assert rel_error(grads[name], numerical) < 1e-7, name


def test_batches_are_reshuffled_every_epoch_and_cover_each_example_once_per_epoch():
    batches = numpy_cnn.batch_indices(10, steps=7, batch_size=3, seed=0)
    assert len(batches) == 7 and all(len(batch) == 3 for batch in batches)
    epoch_one, epoch_two = np.concatenate(batches[:3]), np.concatenate(batches[3:6])
    assert len(set(epoch_one)) == 9 and len(set(epoch_two)) == 9  # the 10th is the dropped remainder
    assert not np.array_equal(epoch_one, epoch_two)
    with pytest.raises(ValueError, match="batch_size 11 exceeds the 10 examples"):
        numpy_cnn.batch_indices(10, steps=1, batch_size=11)


def test_numpy_sgd_tracks_pytorch_to_1e_6_at_every_step(data):
    images, labels = data
    params = numpy_cnn.init_params(seed=0)
    batches = numpy_cnn.batch_indices(len(images), steps=40, batch_size=16, seed=1)
    numpy_losses, numpy_params = numpy_cnn.train_numpy(params, images, labels, batches, lr=0.2)
    torch_losses, torch_params = numpy_cnn.train_torch(params, images, labels, batches, lr=0.2)
    assert len(numpy_losses) == len(torch_losses) == 40
    assert np.max(np.abs(numpy_losses - torch_losses)) < 1e-6
    for name in numpy_cnn.PARAMETER_NAMES:
        np.testing.assert_allclose(numpy_params[name], torch_params[name], rtol=1e-8, atol=1e-10)
    # train_numpy copies: the initial weights are untouched, and training changed them.
    np.testing.assert_array_equal(params["conv_w"], numpy_cnn.init_params(seed=0)["conv_w"])
    assert not np.allclose(numpy_params["conv_w"], params["conv_w"])


def test_numpy_training_learns_to_tell_the_lines_apart(data):
    images, labels = data
    test_images, test_labels = numpy_cnn.line_images(n_per_class=30, seed=99)
    params = numpy_cnn.init_params(seed=0)
    batches = numpy_cnn.batch_indices(len(images), steps=250, batch_size=32, seed=0)
    losses, trained = numpy_cnn.train_numpy(params, images, labels, batches, lr=0.1)
    assert losses[-10:].mean() < 0.3 * losses[:10].mean()
    assert numpy_cnn.accuracy(params, test_images, test_labels) < 0.6  # untrained: near chance (1/3)
    assert numpy_cnn.accuracy(trained, test_images, test_labels) > 0.85
