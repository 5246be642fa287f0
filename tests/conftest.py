"""Shared test set-up: a headless matplotlib, deterministic hypothesis runs in CI."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import HealthCheck, settings  # noqa: E402

# CI and `make test` must not flake: derandomize there. Locally, HYPOTHESIS_PROFILE=dev
# explores new random cases on every run.
settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
