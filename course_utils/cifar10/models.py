"""The course's CNN for CIFAR-10, a record-style fast network, and a layer-by-layer summary.

``CourseCNN`` is lessons 01-04 stacked: convolution (01) with "same" padding (02), ReLU (03), max
pooling (04), then flatten and a fully connected layer (04) giving 10 scores; softmax (03) is
applied inside the loss (``nn.CrossEntropyLoss``). One idea is new: batch normalization, which
rescales each channel's values to mean 0 and variance 1 over the batch so that a large learning
rate stays stable. Lesson 05 walks through it with ``summary``.

``FastCNN`` follows the CIFAR-10 speed records (Keller Jordan's airbench): a first layer of
2x2 filters computed from the data (whitening), wider blocks, GELU, and a global max pool.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn


class CourseCNN(nn.Sequential):
    """Three conv blocks, flatten, one fully connected layer: (N, 3, 32, 32) -> (N, 10) scores.

    ``width`` is the number of filters in the first block (doubled in each block); 64 is the
    GPU model (about 1.1 M parameters), 16 a CPU-sized one. Shapes below are for ``width=w``.
    """

    def __init__(self, width: int = 64, num_classes: int = 10):
        w = width
        super().__init__(OrderedDict([
            #                                                     input   (N, 3, 32, 32)
            ("conv1a", nn.Conv2d(3, w, 3, padding=1, bias=False)),     # (N, w, 32, 32)
            ("norm1a", nn.BatchNorm2d(w)),                             # (N, w, 32, 32)
            ("relu1a", nn.ReLU()),                                     # (N, w, 32, 32)
            ("conv1b", nn.Conv2d(w, w, 3, padding=1, bias=False)),     # (N, w, 32, 32)
            ("norm1b", nn.BatchNorm2d(w)),                             # (N, w, 32, 32)
            ("relu1b", nn.ReLU()),                                     # (N, w, 32, 32)
            ("pool1", nn.MaxPool2d(2)),                                # (N, w, 16, 16)
            ("conv2a", nn.Conv2d(w, 2 * w, 3, padding=1, bias=False)),  # (N, 2w, 16, 16)
            ("norm2a", nn.BatchNorm2d(2 * w)),                         # (N, 2w, 16, 16)
            ("relu2a", nn.ReLU()),                                     # (N, 2w, 16, 16)
            ("conv2b", nn.Conv2d(2 * w, 2 * w, 3, padding=1, bias=False)),  # (N, 2w, 16, 16)
            ("norm2b", nn.BatchNorm2d(2 * w)),                         # (N, 2w, 16, 16)
            ("relu2b", nn.ReLU()),                                     # (N, 2w, 16, 16)
            ("pool2", nn.MaxPool2d(2)),                                # (N, 2w, 8, 8)
            ("conv3a", nn.Conv2d(2 * w, 4 * w, 3, padding=1, bias=False)),  # (N, 4w, 8, 8)
            ("norm3a", nn.BatchNorm2d(4 * w)),                         # (N, 4w, 8, 8)
            ("relu3a", nn.ReLU()),                                     # (N, 4w, 8, 8)
            ("conv3b", nn.Conv2d(4 * w, 4 * w, 3, padding=1, bias=False)),  # (N, 4w, 8, 8)
            ("norm3b", nn.BatchNorm2d(4 * w)),                         # (N, 4w, 8, 8)
            ("relu3b", nn.ReLU()),                                     # (N, 4w, 8, 8)
            ("pool3", nn.MaxPool2d(2)),                                # (N, 4w, 4, 4)
            ("flatten", nn.Flatten()),                                 # (N, 4w * 16)
            ("fc", nn.Linear(4 * w * 4 * 4, num_classes)),             # (N, 10) scores
        ]))
        self.width = width

    def __getitem__(self, index):
        """``model[i]`` is one layer; ``model[:3]`` a plain ``nn.Sequential`` of the first three."""
        if isinstance(index, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[index]))
        return super().__getitem__(index)


class FastCNN(nn.Module):
    """airbench-style network: (N, 3, 32, 32) -> (N, 10) scores.

    ``whiten`` is a 2x2 convolution whose filters are set from the training images by
    ``init_whitening`` (not learned): they decorrelate neighbouring pixels, so the next layers
    start from "edges and colours" instead of raw pixels. The scores are scaled by 1/9, which keeps
    the logits small early in training (as airbench does).
    """

    def __init__(self, widths: tuple[int, int, int] = (64, 256, 256), num_classes: int = 10):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2, padding=0)                # (N, 24, 31, 31)
        blocks, channels = [], 24
        for width in widths:
            blocks.append(nn.Sequential(
                nn.Conv2d(channels, width, 3, padding=1, bias=False),  # (N, width, H, W)
                nn.MaxPool2d(2),                                       # (N, width, H/2, W/2)
                nn.BatchNorm2d(width), nn.GELU(),
                nn.Conv2d(width, width, 3, padding=1, bias=False),     # (N, width, H/2, W/2)
                nn.BatchNorm2d(width), nn.GELU(),
            ))
            channels = width
        self.blocks = nn.Sequential(*blocks)                       # (N, 256, 3, 3)
        self.pool = nn.AdaptiveMaxPool2d(1)                        # (N, 256, 1, 1)
        self.flatten = nn.Flatten()                                # (N, 256)
        self.fc = nn.Linear(channels, num_classes, bias=False)     # (N, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.blocks(self.whiten(x))))) / 9


@torch.no_grad()
def init_whitening(layer: nn.Conv2d, images: torch.Tensor, eps: float = 5e-4) -> None:
    """Set a 2x2 conv with 24 filters to whiten 2x2 patches of normalized ``images`` (N, 3, H, W).

    The 12 eigenvectors of the patch covariance, each divided by the square root of its
    eigenvalue, and their negatives: after this layer the 12 patch directions have variance ~1.
    """
    patches = images.float().unfold(2, 2, 1).unfold(3, 2, 1)       # (N, 3, H-1, W-1, 2, 2)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 12)    # one row per patch
    patches = patches - patches.mean(0)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    filters = (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).reshape(12, 3, 2, 2)
    layer.weight.copy_(torch.cat([filters, -filters]).to(layer.weight))
    if layer.bias is not None:
        layer.bias.zero_()


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int


class Summary(list):
    """Rows ``LayerRow(name, kind, output_shape, parameters)``; prints as a table."""

    @property
    def total_parameters(self) -> int:
        return sum(row.parameters for row in self)

    def __str__(self) -> str:
        lines = [f"{'layer':<14}{'type':<18}{'output shape':<22}{'parameters':>12}"]
        for row in self:
            lines.append(f"{row.name:<14}{row.kind:<18}{str(row.output_shape):<22}"
                         f"{row.parameters:>12,}")
        lines.append(f"{'total':<54}{self.total_parameters:>12,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def summary(model: nn.Module, input_shape: tuple[int, ...] = (1, 3, 32, 32),
            device: torch.device | str | None = None) -> Summary:
    """Run one zero batch of ``input_shape`` through ``model``; one row per leaf layer.

    Each row: the layer's name, type, output shape and its own parameter count (weights + biases;
    BatchNorm's running statistics are buffers, not parameters). ``print(summary(model))``.
    """
    if device is None:
        device = next(model.parameters()).device
    rows = Summary()
    hooks = []
    for name, module in model.named_modules():
        if list(module.children()):
            continue

        def record(module, inputs, output, name=name):
            rows.append(LayerRow(name, type(module).__name__, tuple(output.shape),
                                 sum(p.numel() for p in module.parameters(recurse=False))))
        hooks.append(module.register_forward_hook(record))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return rows
