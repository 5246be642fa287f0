"""A small CNN trained in plain numpy, and its PyTorch twin (lesson 06).

``06_backprop_through_conv.ipynb`` trains this network twice from the same initial weights on
the same mini-batches -- once with the reference forward and backward passes of
:mod:`course_utils.reference` and hand-written SGD, once with ``torch.autograd`` and
``torch.optim.SGD`` -- and overlays the two loss curves. In float64 they agree to about 1e-15
at every step: the numpy backward pass *is* backpropagation.

The network (shapes for the default 1-channel 10x10 images and 6 filters)::

    images   (N, 1, 10, 10)
    conv     3x3, padding 1    -> (N, 6, 10, 10)     conv_w (6, 1, 3, 3), conv_b (6,)
    ReLU                       -> (N, 6, 10, 10)
    max pool 2x2               -> (N, 6, 5, 5)
    flatten                    -> (N, 150)
    dense                      -> (N, 3)  scores     dense_w (3, 150), dense_b (3,)
    softmax cross-entropy      -> loss (the mean over the batch)

The data is generated here (:func:`line_images`): thin horizontal, vertical and diagonal lines
on a noisy background, so the lesson runs anywhere without a download.
"""

from __future__ import annotations

import numpy as np

from course_utils.reference import (
    conv2d,
    conv2d_backward,
    max_pool2d,
    max_pool2d_backward,
    relu,
    relu_backward,
)

CLASS_NAMES = ("horizontal", "vertical", "diagonal")
PARAMETER_NAMES = ("conv_w", "conv_b", "dense_w", "dense_b")
POOL = 2  # max pooling window and stride
PADDING = 1  # conv padding ("same" for the 3x3 kernel)


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------


def line_images(n_per_class: int = 64, size: int = 10, noise: float = 0.15, seed: int = 0):
    """A small learnable data set: one line per image, horizontal, vertical or diagonal.

    Returns ``images`` ``(3 * n_per_class, 1, size, size)`` float64 (line pixels near 1,
    background noise around 0) and ``labels`` ``(3 * n_per_class,)`` int64 indexing
    :data:`CLASS_NAMES`, shuffled. Each line has a random position and a length between half
    and all of the image; the same ``seed`` gives the same data.
    """
    if n_per_class < 1 or size < 4:
        raise ValueError(f"line_images: need n_per_class >= 1 and size >= 4, got {n_per_class}, {size}")
    rng = np.random.default_rng(seed)
    count = len(CLASS_NAMES) * n_per_class
    labels = np.repeat(np.arange(len(CLASS_NAMES)), n_per_class)
    images = noise * rng.standard_normal((count, 1, size, size))
    for index, label in enumerate(labels):
        length = int(rng.integers(size // 2, size + 1))
        start = int(rng.integers(0, size - length + 1))
        along = np.arange(start, start + length)
        if label == 0:  # horizontal: a fixed row
            rows, cols = np.full(length, rng.integers(0, size)), along
        elif label == 1:  # vertical: a fixed column
            rows, cols = along, np.full(length, rng.integers(0, size))
        else:  # diagonal, going down-right or down-left
            shift = int(rng.integers(0, size - length + 1))
            rows = along
            cols = along - start + shift
            if rng.random() < 0.5:
                cols = size - 1 - cols
        images[index, 0, rows, cols] += 1.0
    order = rng.permutation(count)
    return images[order], labels[order]


# ------------------------------------------------------------------------------------------
# the network in numpy
# ------------------------------------------------------------------------------------------


def init_params(in_channels: int = 1, image_size: int = 10, n_classes: int = 3,
                filters: int = 6, kernel: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial weights (float64), He-style scaled normal; biases 0.

    Returns ``{"conv_w": (filters, in_channels, kernel, kernel), "conv_b": (filters,),
    "dense_w": (n_classes, filters * (image_size // 2) ** 2), "dense_b": (n_classes,)}``.
    """
    rng = np.random.default_rng(seed)
    pooled = image_size // POOL
    fan_in_conv = in_channels * kernel * kernel
    fan_in_dense = filters * pooled * pooled
    return {
        "conv_w": rng.standard_normal((filters, in_channels, kernel, kernel)) * np.sqrt(2 / fan_in_conv),
        "conv_b": np.zeros(filters),
        "dense_w": rng.standard_normal((n_classes, fan_in_dense)) * np.sqrt(1 / fan_in_dense),
        "dense_b": np.zeros(n_classes),
    }


def forward(params: dict, images: np.ndarray) -> tuple[np.ndarray, dict]:
    """Scores ``(N, n_classes)`` for ``images`` ``(N, C, H, W)``, and the cache backward needs."""
    conv = conv2d(images, params["conv_w"], params["conv_b"], padding=PADDING)  # (N, F, H, W)
    activated = relu(conv)                                                     # (N, F, H, W)
    pooled = max_pool2d(activated, POOL)                                       # (N, F, H/2, W/2)
    flat = pooled.reshape(len(images), -1)                                     # (N, F*H*W/4)
    scores = flat @ params["dense_w"].T + params["dense_b"]                    # (N, K)
    cache = {"images": images, "conv": conv, "activated": activated, "pooled": pooled, "flat": flat}
    return scores, cache


def softmax_cross_entropy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(scores)`` ``(N, K)`` against ``labels`` ``(N,)``.

    Returns ``(loss, grad_scores)`` with ``grad_scores = (softmax(scores) - one_hot) / N``.
    Uses ``log_softmax = s - max - log(sum(exp(s - max)))`` so large scores do not overflow.
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = -log_probs[np.arange(n), labels].mean()
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1.0
    return float(loss), grad / n


def backward(params: dict, cache: dict, grad_scores: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the loss for every parameter, from ``grad_scores`` ``(N, K)`` back down."""
    grads = {
        "dense_w": grad_scores.T @ cache["flat"],        # (K, D)
        "dense_b": grad_scores.sum(axis=0),              # (K,)
    }
    grad_flat = grad_scores @ params["dense_w"]          # (N, D)
    grad_pooled = grad_flat.reshape(cache["pooled"].shape)
    grad_activated = max_pool2d_backward(grad_pooled, cache["activated"], POOL)  # routed
    grad_conv = relu_backward(grad_activated, cache["conv"])                     # gated
    _, grads["conv_w"], grads["conv_b"] = conv2d_backward(
        grad_conv, cache["images"], params["conv_w"], padding=PADDING
    )
    return grads


def loss_and_gradients(params: dict, images: np.ndarray, labels: np.ndarray):
    """One forward and backward pass: ``(loss, {name: gradient})``."""
    scores, cache = forward(params, images)
    loss, grad_scores = softmax_cross_entropy(scores, labels)
    return loss, backward(params, cache, grad_scores)


def accuracy(params: dict, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` whose highest score is the right label."""
    scores, _ = forward(params, images)
    return float(np.mean(scores.argmax(axis=1) == labels))


# ------------------------------------------------------------------------------------------
# training: numpy SGD and the same thing in PyTorch
# ------------------------------------------------------------------------------------------


def batch_indices(n_examples: int, steps: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """The mini-batches for ``steps`` steps: a fresh shuffle every epoch, the last short batch
    of an epoch dropped. Both trainers take this list, so they see identical batches."""
    if batch_size > n_examples:
        raise ValueError(f"batch_indices: batch_size {batch_size} exceeds the {n_examples} examples")
    rng = np.random.default_rng(seed)
    batches: list[np.ndarray] = []
    while len(batches) < steps:
        order = rng.permutation(n_examples)
        for start in range(0, n_examples - batch_size + 1, batch_size):
            batches.append(order[start : start + batch_size])
    return batches[:steps]


def _copy(params: dict) -> dict[str, np.ndarray]:
    return {name: np.array(params[name], dtype=np.float64) for name in PARAMETER_NAMES}


def train_numpy(params: dict, images, labels, batches, lr: float = 0.1):
    """Plain SGD, ``p <- p - lr * dL/dp``, one step per batch in ``batches``.

    ``params`` is not modified. Returns ``(losses, final_params)``: the loss of every batch,
    computed before that batch's update.
    """
    params = _copy(params)
    losses = []
    for batch in batches:
        loss, grads = loss_and_gradients(params, images[batch], labels[batch])
        for name in PARAMETER_NAMES:
            params[name] -= lr * grads[name]
        losses.append(loss)
    return np.array(losses), params


def train_torch(params: dict, images, labels, batches, lr: float = 0.1):
    """The same network, data, batches and SGD in PyTorch (float64, ``torch.autograd``).

    Returns ``(losses, final_params)`` like :func:`train_numpy`, parameters as numpy arrays.
    """
    import torch

    weights = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
               for name, value in _copy(params).items()}
    optimizer = torch.optim.SGD(list(weights.values()), lr=lr)
    images_t = torch.as_tensor(np.asarray(images, dtype=np.float64))
    labels_t = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    losses = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tensors this small run fastest on one thread; restored below
    try:
        for batch in batches:
            losses.append(_torch_step(weights, optimizer, images_t, labels_t, batch))
    finally:
        torch.set_num_threads(threads)
    return np.array(losses), {name: value.detach().numpy().copy() for name, value in weights.items()}


def _torch_step(weights, optimizer, images_t, labels_t, batch) -> float:
    """One PyTorch SGD step on ``batch``; returns the batch loss before the update."""
    import torch
    import torch.nn.functional as F

    index = torch.as_tensor(batch)
    x = F.conv2d(images_t[index], weights["conv_w"], weights["conv_b"], padding=PADDING)
    x = F.max_pool2d(F.relu(x), POOL)
    scores = F.linear(x.flatten(1), weights["dense_w"], weights["dense_b"])
    loss = F.cross_entropy(scores, labels_t[index])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
