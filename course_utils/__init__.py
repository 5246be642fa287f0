"""course_utils: the code behind the CNN course, in four layers; each imports only the ones above it
in this list (docs/layout.md; ``tests/test_layout.py`` holds the rule):

1. the lessons' layer (this folder's modules): ``reference`` (the maths, with PyTorch's exact
   semantics), ``kernels``, ``images``, ``plotting``, ``widgets`` (the explorers),
   ``self_check``, ``gradcheck``, ``numpy_cnn``;
2. ``cifar10``: lesson 05's PyTorch pipeline (data, augmentation, models, training, metrics, plots);
3. ``grading``: what the assignments' test cells call, the case lists and the judge;
4. ``instructor``: release, autograde and what they share.

``release`` and ``autograde`` here are shims for the commands' old names.
"""

__version__ = "0.1.0"
