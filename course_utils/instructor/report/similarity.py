"""Similar work: which submissions share their code with another, or with code a student can read.

Every submission's own code (its code cells, the release's locked cells left out) is fingerprinted
with copydetect (winnowing, as MOSS does) after its tokens are filtered: every name becomes
``V``, every string ``S``, comments and blank space are dropped. Renaming variables, rewriting
comments or moving functions around therefore changes nothing that is compared. Two kinds of
code never count:

* the released assignment's code (the template: signatures, docstrings, the given cells) is
  copydetect's *boilerplate*;
* between two students, code that many submissions share (MOSS's ``-m``: a passage in more
  than :func:`common_limit` submissions is what everybody writes, ``return (n + 2 * p - f) // s
  + 1``) and code that is also in the course's own code (the loops the lessons teach) is not
  evidence that one copied the other.

A pair is flagged when one side's share of its own code found in the other is at least the
threshold (:data:`THRESHOLD`) and the shared code is at least :data:`MIN_SHARED` filtered
characters (a two-line submission that shares its two lines proves nothing). Each submission is
also compared with the course's sources (``course_utils/reference``, the lessons, ``solutions/``),
with only the template ignored (a solution most of the class hands in is a leak, not common
code): there the submission's share counts.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from copydetect import CodeFingerprint, compare_files

#: Characters of filtered code in one fingerprint (copydetect's noise threshold, its default):
#: shorter common passages are never seen.
K = 25
#: Winnowing window: 1 keeps every fingerprint (student code is small; nothing to save).
WINDOW = 1
#: Default share of a submission's own code found in another that flags the pair. Chosen on the
#: twenty honest a1 solutions of ``tests/instructor/honest_solutions.py`` (loops, im2col, stride
#: tricks, einsum): their highest pair shares 0.53, their highest share with the course's code is
#: 0.56 (a plain loop against the solution's loop); a copy with renamed variables, reordered
#: functions and new comments shares 0.97, a renamed copy of the solution 0.9 and more.
THRESHOLD = 0.65
#: The least shared code (filtered characters) that can flag a pair.
MIN_SHARED = 120


@dataclass(frozen=True)
class Document:
    """Code to compare: ``key`` identifies it (a student id, or a source's path), ``code`` its text."""

    key: str
    code: str


@dataclass(frozen=True)
class Match:
    """Two documents that share code: each side's share of its own code found in the other,
    and where the shared code is in each (character ranges of the original code)."""

    left: str
    right: str
    left_share: float
    right_share: float
    left_spans: tuple[tuple[int, int], ...]
    right_spans: tuple[tuple[int, int], ...]
    shared: int  # filtered characters

    @property
    def share(self) -> float:
        return max(self.left_share, self.right_share)


def fingerprint(code: str, boilerplate=None) -> CodeFingerprint:
    """copydetect's fingerprint of Python ``code`` (filtered), without ``boilerplate`` hashes."""
    logging.getLogger().disabled, was = True, logging.getLogger().disabled  # copydetect warns on empty files
    try:
        return CodeFingerprint("code.py", K, WINDOW, boilerplate=boilerplate, language="python",
                               fp=io.StringIO(code))
    finally:
        logging.getLogger().disabled = was


def common_limit(count: int) -> int:
    """A passage in more than this many of ``count`` submissions is common code, never a copy:
    a quarter of the class, and never fewer than 4 (two or three students who share work stay
    visible in a small section)."""
    return max(4, count // 4)


def compare(left: CodeFingerprint, right: CodeFingerprint, left_key: str, right_key: str) -> Match | None:
    """The match of two fingerprints, or None if they share nothing."""
    if not left.hashes or not right.hashes or not (left.hashes & right.hashes):
        return None
    shared, (left_share, right_share), (left_slices, right_slices) = compare_files(left, right)
    if not shared:
        return None
    return Match(left_key, right_key, float(min(left_share, 1.0)), float(min(right_share, 1.0)),
                 _spans(left_slices), _spans(right_slices), int(shared))


def _spans(slices) -> tuple[tuple[int, int], ...]:
    slices = np.asarray(slices)
    if slices.ndim != 2 or slices.shape[1] == 0:
        return ()
    return tuple((int(start), int(end)) for start, end in zip(slices[0], slices[1]))


@dataclass(frozen=True)
class SimilarityResult:
    """What the check found: pairs of submissions, and submissions like a course source."""

    pairs: list[Match]  # left and right are student keys
    sources: list[Match]  # left a student key, right a source key; share = left_share
    compared: int  # submissions with code of their own
    threshold: float


def similar_work(submissions: list[Document], sources: list[Document], boilerplate: str,
                 threshold: float = THRESHOLD, progress=None) -> SimilarityResult:
    """Every pair of ``submissions`` and every (submission, source) whose shared code reaches
    ``threshold`` (see the module doc), highest share first. ``progress(iterable, total)``
    wraps the loop over pairs (a tqdm bar), if given."""
    if not 0 < threshold <= 1:
        raise ValueError(f"similar_work: threshold must be in (0, 1], got {threshold!r}")
    template = fingerprint(boilerplate).hashes
    first = {doc.key: fingerprint(doc.code, list(template)) for doc in submissions}
    seen_in: dict[int, int] = {}
    for printed in first.values():
        for value in printed.hashes:
            seen_in[value] = seen_in.get(value, 0) + 1
    limit = common_limit(len(submissions))
    common = [value for value, count in seen_in.items() if count > limit]
    # the course's code: only the template is ignored. Code most of the class shares with a
    # solution is a leaked solution, not what everybody writes.
    template_only = np.array(sorted(template), dtype=np.int64)
    solo = {doc.key: fingerprint(doc.code, template_only) for doc in submissions}
    source_prints = [(doc.key, fingerprint(doc.code, template_only)) for doc in sources]
    # between two students, a passage that is also in the course's code (a loop of the lessons,
    # a line of the solution) is explained by the course, not by one copying the other; the
    # comparison with the course's code reports it
    taught = set().union(*(printed.hashes for _, printed in source_prints)) if source_prints else set()
    ignored = np.array(sorted(set(template) | set(common) | taught), dtype=np.int64)
    printed = {doc.key: fingerprint(doc.code, ignored) for doc in submissions}
    printed = {key: value for key, value in printed.items() if value.hashes}
    keys = sorted(printed)
    pairs_to_check = list(combinations(keys, 2))
    iterable = progress(pairs_to_check, len(pairs_to_check)) if progress else pairs_to_check
    pairs = []
    for left, right in iterable:
        match = compare(printed[left], printed[right], left, right)
        if match and match.shared >= MIN_SHARED and match.share >= threshold:
            pairs.append(match)
    found = []
    for key in sorted(k for k, value in solo.items() if value.hashes):
        for source, source_print in source_prints:
            match = compare(solo[key], source_print, key, source)
            if match and match.shared >= MIN_SHARED and match.left_share >= threshold:
                found.append(match)
    pairs.sort(key=lambda m: (-m.share, m.left, m.right))
    found.sort(key=lambda m: (-m.left_share, m.left, m.right))
    return SimilarityResult(pairs, found, len(keys), threshold)


def pair_shares(submissions: list[Document], boilerplate: str) -> dict[tuple[str, str], float]:
    """Every pair's share (the larger side's), for choosing a threshold (the benchmark of the
    report's tests prints them): nothing filtered by threshold or size."""
    result = similar_work(submissions, [], boilerplate, threshold=1e-9)
    return {(match.left, match.right): match.share for match in result.pairs}
