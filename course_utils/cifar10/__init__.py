"""Lesson 05's PyTorch pipeline for CIFAR-10, one step per module, in the order data flows:

================  ==============================================================================
module            what it holds
================  ==============================================================================
cifar_format      the official files: names, md5 checksums, reading and writing one batch file
data              ``load_cifar10``: checksummed download, unpacking, loading into tensors
fake_data         ``write_fake_cifar10``: a small learnable stand-in in the same file format
augment           ``DeviceBatches``: the on-device pipeline (normalize, random crop, flip)
models            ``CourseCNN`` (shape comment on every layer), ``FastCNN``, ``summary``
training          ``train(model, train_batches, test_batches, config)``, checkpoints, devices
metrics           ``evaluate``, accuracy, per-class accuracy, confusion matrix
plots             image grids, curves, the confusion matrix, filters, the speed ladder
speed_ladder      "How fast can it go": the speed-record ideas added one at a time
attribution       lesson 07: layer geometry, measured footprints, saliency, Grad-CAM, mask overlap
================  ==============================================================================

A batch passes each module once: ``load_cifar10`` -> ``DeviceBatches`` (built once in the
notebook) -> ``train`` -> ``evaluate`` -> ``confusion_matrix`` -> ``plot_confusion``.
"""
