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


import asyncio  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def no_event_loop_left_running(request):
    """A module must not leave an event loop running in the test thread (an open Playwright
    sync API does): every later ``asyncio.run`` in the session would fail far from the cause."""
    yield
    if asyncio._get_running_loop() is not None:
        pytest.fail(f"{request.module.__name__} left an asyncio event loop running in the test "
                    "thread (a Playwright sync_playwright() still open?); close it in the module")
