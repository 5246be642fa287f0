"""Lesson 07's measurements of a CNN in PyTorch: the receptive field it really has, and which
pixels a trained network used for its answer (saliency, Grad-CAM), checked against known masks.

Lesson 07 computes receptive fields with the formula (:mod:`course_utils.reference.receptive_field`)
and then asks the network itself: :func:`layer_geometry` feeds a model's layers to the formula,
and :func:`input_footprint` backpropagates one unit to see which pixels it reaches. Saliency and
Grad-CAM are pictures that are easy to over-read, so :func:`mass_inside` scores them against a
mask, next to what a map spread at random would score. Functions that run the model put it in
``eval()`` mode for the call (BatchNorm uses its running statistics, so the images of a batch do
not influence each other) and leave it as it was; they return numpy arrays.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.reference.receptive_field import Layer

#: Layers that keep every pixel where it is (receptive field unchanged).
POINTWISE_LAYERS = (nn.BatchNorm2d, nn.ReLU, nn.GELU, nn.Identity, nn.Dropout)


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def layer_geometry(model: nn.Sequential) -> list[Layer]:
    """One :class:`Layer` per layer of ``model`` up to its first ``Flatten``: convolutions and
    pools with their kernel, stride, padding and dilation; BatchNorm and activations with a 1x1
    "kernel" (they change no pixel's neighbourhood). Square kernels only (as in ``CourseCNN``).
    """
    rows = []
    for name, module in model.named_children():
        if isinstance(module, nn.Flatten):
            break
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            kernel, stride = _pair(module.kernel_size), _pair(module.stride)
            padding = _pair(module.padding)
            dilation = _pair(getattr(module, "dilation", 1))
            if len({kernel[0], kernel[1]}) > 1 or len({stride[0], stride[1]}) > 1 \
                    or len({padding[0], padding[1]}) > 1 or len({dilation[0], dilation[1]}) > 1:
                raise ValueError(f"layer_geometry: layer {name!r} is not square ({module})")
            rows.append(Layer(name, kernel[0], stride[0], padding[0], dilation[0]))
        elif isinstance(module, POINTWISE_LAYERS):
            rows.append(Layer(name, 1, 1, 0, 1))
        else:
            raise ValueError(f"layer_geometry: do not know the geometry of layer {name!r} "
                             f"({type(module).__name__})")
    return rows


@contextmanager
def _evaluating(model: nn.Module):
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def input_footprint(model: nn.Module, images: torch.Tensor, channel: int, row: int,
                    col: int) -> np.ndarray:
    """Which input pixels can change output unit ``(channel, row, col)`` of ``model``.

    ``images`` ``(N, C, H, W)``: the unit's value summed over the batch is backpropagated to the
    input (one backward pass; in ``eval()`` mode each image's gradient is its own). Returns the
    number of images in which each pixel got a non-zero gradient, ``(H, W)`` int. With max pooling
    and ReLU, one image's gradient reaches only part of the receptive field (only a window's
    winner passes it on); over many random images the reached pixels fill it.
    """
    with _evaluating(model):
        x = images.detach().clone().requires_grad_(True)
        output = model(x)
        if output.ndim != 4:
            raise ValueError(f"input_footprint: the model must output feature maps (N, C, H, W), "
                             f"got shape {tuple(output.shape)}")
        output[:, channel, row, col].sum().backward()
    reached = (x.grad != 0).any(dim=1)  # (N, H, W): any colour channel
    return reached.sum(dim=0).numpy().astype(np.int64)


def class_scores(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """The model's scores ``(N, classes)`` for ``images``, in ``eval()`` mode."""
    with _evaluating(model), torch.no_grad():
        return model(images).float().numpy()


def saliency(model: nn.Module, images: torch.Tensor, targets) -> np.ndarray:
    """``(N, H, W)``: for each image, ``max over colour channels |d scores[target] / d pixel|``.

    ``targets``: one class per image ``(N,)`` (e.g. the true or the predicted label).
    Float64 numpy, not normalized.
    """
    targets = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    with _evaluating(model):
        x = images.detach().clone().requires_grad_(True)
        scores = model(x)
        scores.gather(1, targets.view(-1, 1)).sum().backward()
    return x.grad.abs().amax(dim=1).double().numpy()


def grad_cam(model: nn.Sequential, images: torch.Tensor, targets, layer: str,
             upsample: bool = True, relu: bool = True) -> np.ndarray:
    """Grad-CAM maps ``(N, H, W)`` (or ``(N, h, w)``, the layer's own size, if not ``upsample``).

    With ``A`` the output of ``layer`` (a name in ``model``), ``(N, K, h, w)``, and ``y`` the
    target class's score: ``alpha_k = mean over (i, j) of dy / dA_k[i, j]`` and
    ``map = ReLU(sum_k alpha_k A_k)``, bilinearly resized to the input's ``H x W``. A map is 0
    everywhere when the weighted sum is negative at every position; ``relu=False`` returns the
    sum itself, to see why. Float64 numpy, not normalized.
    """
    targets = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    names = [name for name, _ in model.named_children()]
    if layer not in names:
        raise ValueError(f"grad_cam: model has no layer {layer!r}; its layers are {names}")
    cut = names.index(layer) + 1
    with _evaluating(model):
        features = model[:cut](images).detach().requires_grad_(True)  # (N, K, h, w)
        scores = model[cut:](features)
        scores.gather(1, targets.view(-1, 1)).sum().backward()
        weights = features.grad.mean(dim=(2, 3), keepdim=True)     # (N, K, 1, 1)
        maps = (weights * features).sum(dim=1, keepdim=True).detach()  # (N, 1, h, w)
    if relu:
        maps = F.relu(maps)
    if upsample:
        maps = F.interpolate(maps, size=images.shape[-2:], mode="bilinear", align_corners=False)
    return maps[:, 0].double().numpy()


@dataclass(frozen=True)
class MaskOverlap:
    """How much of each map's mass lies inside its mask, ``inside`` ``(N,)``, next to chance,
    ``area`` ``(N,)``: the mask's share of the pixels (a map spread evenly would score that)."""

    inside: np.ndarray
    area: np.ndarray

    @property
    def ratio(self) -> float:
        """Mean mass inside divided by mean area: how many times better than chance."""
        return float(self.inside.mean() / self.area.mean())


def mass_inside(maps, masks) -> MaskOverlap:
    """``maps`` ``(N, H, W)`` non-negative, ``masks`` ``(N, H, W)`` bool. A map that is all
    zeros counts as spread evenly (its share is the mask's area)."""
    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    if maps.shape != masks.shape:
        raise ValueError(f"mass_inside: maps {maps.shape} and masks {masks.shape} differ in shape")
    if (maps < 0).any():
        raise ValueError("mass_inside: maps must be non-negative (take abs or ReLU first)")
    area = masks.mean(axis=(1, 2))
    total = maps.sum(axis=(1, 2))
    inside = np.where(total > 0, (maps * masks).sum(axis=(1, 2)) / np.where(total > 0, total, 1),
                      area)
    return MaskOverlap(inside, area)
