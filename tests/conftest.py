"""Shared test set-up: a headless matplotlib, deterministic hypothesis runs in CI, and every
lesson executed at most once per test session."""

import json
import os
import sys
from pathlib import Path

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

import nbformat  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def no_event_loop_left_running(request):
    """A module must not leave an event loop running in the test thread (an open Playwright
    sync API does): every later ``asyncio.run`` in the session would fail far from the cause."""
    yield
    if asyncio._get_running_loop() is not None:
        pytest.fail(f"{request.module.__name__} left an asyncio event loop running in the test "
                    "thread (a Playwright sync_playwright() still open?); close it in the module")


@pytest.fixture()
def shown(monkeypatch):
    """Every figure handed to ``course_utils.plotting.show_figure`` -- through ``plotting`` or a
    module that imported the name -- with its text alternative, in order."""
    from course_utils import plotting

    calls = []
    original = plotting.show_figure

    def record(figure, alt):
        calls.append((figure, alt))
        return original(figure, alt)

    for name, module in list(sys.modules.items()):
        if name.startswith("course_utils") and getattr(module, "show_figure", None) is original:
            monkeypatch.setattr(module, "show_figure", record)
    return calls


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the website's build tools (website/), not an installed package
from website.lessons import ExecutedLesson, execute_lesson  # noqa: E402


class LessonRuns:
    """Each lesson executed headless in smoke mode on first use, then shared: the notebook tests
    check the outputs, the website's test builds its pages from the same copies (written to
    ``folder`` as ``website.build --executed`` reads them)."""

    def __init__(self, folder: Path, scratch: Path):
        self.folder, self.scratch, self.runs = folder, scratch, {}

    def get(self, path: Path) -> ExecutedLesson:
        """The executed lesson (a failed run raises its error, in every test that asks)."""
        if path not in self.runs:
            result = execute_lesson(path, self.scratch / path.stem)
            nbformat.write(result.notebook, self.folder / path.name)
            (self.folder / f"{path.stem}.json").write_text(json.dumps(
                {"seconds": round(result.seconds, 1), "scratch": str(self.scratch / path.stem)}))
            self.runs[path] = result
        result = self.runs[path]
        if result.error is not None:
            raise result.error
        return result


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory) -> LessonRuns:
    return LessonRuns(tmp_path_factory.mktemp("executed-lessons"),
                      tmp_path_factory.mktemp("lesson-scratch"))


@pytest.fixture(scope="session")
def built_site(executed_lessons, tmp_path_factory) -> Path:
    """The course website built as ``make site`` builds it, from this session's executed
    lessons (each lesson runs once). As root it is built in a network namespace of its own
    (``unshare --net``), which proves that the build needs no network."""
    import shutil
    import subprocess

    for lesson in sorted((ROOT / "notebooks").glob("*.ipynb")):
        executed_lessons.get(lesson)
    work = tmp_path_factory.mktemp("website")
    command = [sys.executable, "-m", "website.build", "--executed", str(executed_lessons.folder),
               "--source", str(work / "source"), "--output", str(work / "site")]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--net", "--", *command]
    built = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, f"the website did not build:\n{built.stdout[-4000:]}\n{built.stderr[-4000:]}"
    return work / "site"

