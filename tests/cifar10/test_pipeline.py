"""Lesson 05's data passes each module once: load -> pipeline (built once) -> train -> evaluate ->
confusion matrix -> its picture, each step taking what the one before produced."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.cifar10 import augment, metrics, plots  # noqa: E402
from course_utils.cifar10.augment import DeviceBatches  # noqa: E402
from course_utils.cifar10.data import load_cifar10  # noqa: E402
from course_utils.cifar10.fake_data import write_fake_cifar10  # noqa: E402
from course_utils.cifar10.models import CourseCNN  # noqa: E402
from course_utils.cifar10.training import TrainConfig, train  # noqa: E402


class Counted:
    """A pipeline that counts the batches taken from it (len(batches) per pass)."""

    def __init__(self, batches):
        self.batches, self.taken = batches, 0
        self.generator = getattr(batches, "generator", None)

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            self.taken += 1
            yield batch


def test_one_batch_walks_from_the_files_to_the_confusion_matrix_through_each_module_once(tmp_path, monkeypatch):
    write_fake_cifar10(tmp_path, n_train=200, n_test=60, seed=3)
    data = load_cifar10(tmp_path, fake=True)                                         # data

    built = []
    original_init = augment.DeviceBatches.__init__

    def counting_init(self, *args, **kwargs):
        built.append(len(args[0]))
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(augment.DeviceBatches, "__init__", counting_init)
    batches = Counted(DeviceBatches(data.train_images, data.train_labels, 50, "cpu", augment=True))
    test_batches = Counted(DeviceBatches(data.test_images, data.test_labels, 32, "cpu"))  # augment
    assert built == [200, 60]

    torch.manual_seed(0)
    model = CourseCNN(width=4)
    history = train(model, batches, test_batches, TrainConfig(epochs=2, lr=0.05), device="cpu",
                    progress=False)                                                  # training
    assert built == [200, 60], "train built a pipeline of its own instead of using the one it was given"
    assert batches.taken == 2 * len(batches)            # one pass per epoch
    assert test_batches.taken == 2 * len(test_batches)  # one evaluation per epoch, one pass each
    assert len(history.test_accuracy) == 2

    result = metrics.evaluate(model, test_batches, flip_tta=True)                    # metrics
    assert torch.equal(result.labels, data.test_labels)
    assert result.accuracy == pytest.approx(history.test_accuracy[-1])  # what training reported
    confusion = metrics.confusion_matrix(result.predictions, result.labels)
    assert confusion.sum() == 60 and int(confusion.trace()) == round(result.accuracy * 60)

    def recomputed(*args, **kwargs):
        raise AssertionError("the picture recomputed the confusion matrix instead of drawing it")

    monkeypatch.setattr(metrics, "confusion_matrix", recomputed)
    figure = plots.plot_confusion(confusion, data.classes, fake=data.fake)            # plots
    drawn = [int(text.get_text()) for text in figure.axes[0].texts]
    assert figure.alt.startswith(plots.FAKE_LABEL) and f"{int(confusion.trace())} on the diagonal" in figure.alt
    assert drawn == confusion.flatten().tolist()
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    per_class = metrics.per_class_accuracy(confusion)
    assert labels == [f"{name} ({acc:.0%})" for name, acc in zip(data.classes, per_class.tolist())]
    assert np.isclose(per_class.numpy(), np.diag(confusion.numpy()) / confusion.numpy().sum(1).clip(1)).all()


def test_metrics_sentences_name_the_numbers_and_say_fake():
    confusion = torch.diag(torch.full((10,), 50))
    confusion[3, 5], confusion[5, 3], confusion[1, 9] = 7, 4, 6
    assert metrics.most_confused_pairs(confusion, 2) == [(3, 5, 7, 4), (1, 9, 6, 0)]
    from course_utils.cifar10.cifar_format import CLASSES
    sentence = metrics.confused_pairs_sentence(confusion, CLASSES)
    assert sentence.startswith("Most confused pair: cat and dog, 11 mistakes (cat taken for dog 7 "
                               "times, dog for cat 4). Next: automobile and truck (6).")
    assert metrics.confused_pairs_sentence(torch.diag(torch.ones(10)), CLASSES).startswith("No mistakes")
    result = metrics.Evaluation(torch.zeros(4, 10), torch.tensor([1, 1, 2, 3]),
                                torch.tensor([1, 1, 2, 0]), 0.5, 0.75)
    assert metrics.describe_accuracy(result) == "test accuracy: 75.0% on 4 test images (chance: 10%)"
    assert "4 FAKE test images (synthetic shapes, not CIFAR-10" in metrics.describe_accuracy(result, fake=True)
