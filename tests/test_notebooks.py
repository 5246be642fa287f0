"""Every notebook in notebooks/ runs top to bottom, headless, in smoke mode; none carries outputs;
every picture a lesson draws is shown, with a text alternative.

Smoke mode (``website/lessons.py``): the environment variable ``COURSE_SMOKE=1`` is set for the
kernel, and a notebook with a cell tagged ``parameters`` (papermill's convention) gets the
overrides stored in its own metadata, ``metadata["course"]["smoke_parameters"]``, injected in a
cell right after it -- so each notebook says in one place how it runs fast. ``{tmp}`` in a
string value is replaced by a fresh temporary folder (for data the notebook writes). Each
notebook is executed once per test session (the ``executed_lessons`` fixture of conftest.py):
the tests below and the website's build (tests/browser/test_site.py) share that run.

Pictures: in every code cell the calls that draw -- a function of ``course_utils.plotting``,
``course_utils.figures`` or ``course_utils.cifar10.plots`` that makes a figure, or an explorer --
are counted from the cell's source, and the cell's outputs must hold exactly that many pictures
(``<img>``) and explorer views (at least that many when a call sits in a loop): a figure that is
made but never shown (a drawing call followed by more code, a trailing ``;``) fails, and so does a
figure shown twice (a wrapper that shows again what the function it wraps has shown).
"""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from notebook_drawings import (WIDGET_VIEW, drawing_calls, draws_in_a_loop, imported_names,
                               shown_figures, shown_pictures)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIGURES = ROOT / "artifacts" / "notebook-figures"  # git-ignored: every executed lesson's pictures
# Seconds a notebook may take in smoke mode on the 2-core CI machine (issue targets).
TIME_LIMITS = {"05_cnn_on_cifar10.ipynb": 90, "06_backprop_through_conv.ipynb": 90}
DEFAULT_TIME_LIMIT = 60


def repo_notebooks() -> list[Path]:
    """Every notebook git tracks, plus any in the course folders not yet committed."""
    listed = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    found = {ROOT / name for name in listed}
    for folder in ("notebooks", "solutions", "assignments"):
        found.update((ROOT / folder).rglob("*.ipynb"))
    return sorted(path for path in found if ".ipynb_checkpoints" not in path.parts)


def test_there_are_lessons():
    assert NOTEBOOKS, "notebooks/ holds no notebooks"


@pytest.mark.parametrize("path", repo_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = json.loads(path.read_text())
    dirty = [
        index
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_headless(path: Path, executed_lessons):
    seconds = executed_lessons.get(path).seconds
    limit = TIME_LIMITS.get(path.name, DEFAULT_TIME_LIMIT)
    print(f"{path.name}: {seconds:.1f} s")
    # Generous on a loaded machine (x2), but a notebook that drifts far past its budget fails.
    assert seconds < 2 * limit, f"{path.name} took {seconds:.0f} s; its smoke budget is {limit} s"


# ------------------------------------------------------------------ every drawing is shown

@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_drawing_call_shows_its_picture_once(path: Path, executed_lessons):
    """Every drawing call shows its picture or explorer; a figure-making call shows exactly one
    figure (several only when the call sits in a loop). Widget views are counted only from
    below: a training cell's progress bars are widgets too."""
    notebook = executed_lessons.get(path).notebook
    names = imported_names(notebook)
    wrong, drawing_cells = [], 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        calls = drawing_calls(cell.source, names)
        drawing_cells += bool(calls)
        figure_calls = [call for call in calls if not call.endswith("_explorer")]
        shown, figures = shown_pictures(cell), shown_figures(cell)
        if shown < len(calls):
            wrong.append(f"cell {index}: {len(calls)} drawing call(s) ({', '.join(calls)}) but "
                         f"{shown} picture(s) shown; source starts {cell.source[:80]!r}")
        elif figures > len(figure_calls) and not draws_in_a_loop(cell.source, names):
            wrong.append(f"cell {index}: {len(figure_calls)} figure call(s) "
                         f"({', '.join(figure_calls)}) but {figures} figures shown: a figure shown "
                         f"twice? source starts {cell.source[:80]!r}")
    assert drawing_cells, f"{path.name}: no drawing call found; is the import resolution broken?"
    assert not wrong, f"{path.name}:\n" + "\n".join(wrong)


def explorer_view_html(notebook, model_id: str) -> str:
    """The HTML an explorer shows: the value of the first HTML widget under ``model_id`` in the
    widget state nbclient stored with the notebook ("" when there is none)."""
    state = notebook.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    model = state.get(model_id, {})
    if model.get("model_name") == "HTMLModel":
        return model["state"].get("value", "")
    for child in model.get("state", {}).get("children", []):
        found = explorer_view_html(notebook, child.removeprefix("IPY_MODEL_"))
        if found:
            return found
    return ""


def save_pictures(notebook, folder: Path) -> None:
    """Every picture the executed notebook shows, as ``cellNN-K.png``, and their alt texts in
    ``alt.txt``: what a reviewer looks at to check the lesson's sentences against its figures."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    lines = []
    for index, cell in enumerate(notebook.cells):
        pictures = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            pictures += re.findall(r'<img src="data:image/png;base64,([^"]+)"[^>]*?alt="([^"]*)"',
                                   data.get("text/html", ""))
            if "image/png" in data:
                pictures.append((data["image/png"], "(no text alternative)"))
        for number, (encoded, alt) in enumerate(pictures, start=1):
            name = f"cell{index:02d}-{number}.png"
            (folder / name).write_bytes(base64.b64decode(encoded))
            lines.append(f"{name}: {html.unescape(alt)}")
    (folder / "alt.txt").write_text("\n".join(lines) + "\n")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_picture_has_a_text_alternative(path: Path, executed_lessons):
    """A screen reader reads ``alt``: no bare PNG output (it has none), no ``<img>`` without a
    non-empty ``alt``, and every explorer's view carries its own (its ``<img>`` have ``alt``,
    its drawings ``role="img"`` and ``aria-label``). The pictures and their alt texts are saved
    to artifacts/notebook-figures/<lesson>/ to be looked at."""
    notebook = executed_lessons.get(path).notebook
    save_pictures(notebook, FIGURES / path.stem)
    problems = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            pieces = [data.get("text/html", "")]
            if "image/png" in data:
                problems.append(f"cell {index}: a PNG output without a text alternative (draw it "
                                "with course_utils.plotting.show_figure)")
            if WIDGET_VIEW in data:
                view = explorer_view_html(notebook, data[WIDGET_VIEW]["model_id"])
                if not view:
                    problems.append(f"cell {index}: an explorer with an empty view")
                pieces.append(view)
            for piece in pieces:
                for tag in re.findall(r"<img\b[^>]*>", piece):
                    if not re.search(r'\balt="[^"]*\w[^"]*"', tag):
                        problems.append(f"cell {index}: <img> without alt text: {tag[:60]}...")
                for tag in re.findall(r"<svg\b[^>]*>", piece):
                    if 'role="img"' not in tag or "aria-label=" not in tag:
                        problems.append(f"cell {index}: <svg> without role=img and aria-label")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_drawing_calls_are_counted_from_the_source_and_pictures_from_the_outputs():
    names = {"plotting": "course_utils.plotting", "conv_explorer": "course_utils.widgets.conv_explorer",
             "np": "numpy"}
    source = ("%matplotlib inline\n"
              "plotting.show_grids([a])\nprint('after the call')\n"
              "for name in names:\n    plotting.show_feature_maps([m])\n"
              "def later():\n    plotting.show_images([p])\n"
              "plotting.grid_html(a)\nnp.zeros(3)\nconv_explorer()")
    assert drawing_calls(source, names) == [
        "course_utils.plotting.show_grids", "course_utils.plotting.show_feature_maps",
        "course_utils.widgets.conv_explorer"]
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": '<img src="x" alt="a grid">'}),
        nbformat.v4.new_output("stream", name="stdout", text="after the call\n"),
        nbformat.v4.new_output("display_data", {WIDGET_VIEW: {"model_id": "1"}}),
    ]
    assert shown_pictures(cell) == 2  # one figure and the explorer: the feature maps are missing
    assert shown_figures(cell) == 1   # the explorer's view is a widget, not a figure
    assert draws_in_a_loop(source, names)  # the feature maps: one call, a picture per name
    assert not draws_in_a_loop("plotting.show_grids([a])\nplotting.show_grids([b])", names)
    # Lesson 07's own figures count too (a caption helper does not draw).
    lesson07 = {"figures": "course_utils.figures"}
    assert drawing_calls("figures.show_heatmaps(x, {}, [])\nfigures.heatmap_caption(m, 'saliency')",
                         lesson07) == ["course_utils.figures.show_heatmaps"]


# ------------------------------------------------------------------ lesson 07's maps

def _printed_and_alts(cell) -> tuple[str, list[str]]:
    printed = "".join(output.get("text", "") for output in cell.outputs
                      if output.output_type == "stream")
    alts = [html.unescape(alt) for output in cell.outputs
            for alt in re.findall(r'alt="([^"]*)"', output.get("data", {}).get("text/html", ""))]
    return printed, alts


@pytest.mark.slow
def test_lesson_07_captions_agree_with_the_maps_drawn(executed_lessons):
    """The all-zero Grad-CAM map the lesson shows is captioned "0 everywhere", with no peak and
    no share of mass, and its weighted sum is below 0 everywhere (printed from the data); the
    sentences printed about the bare photo's maps are the ones its figure's text alternative
    says."""
    path = ROOT / "notebooks" / "07_what_a_cnn_sees.ipynb"
    notebook = executed_lessons.get(path).notebook
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed, alts = _printed_and_alts(next(cell for cell in code if "relu=False" in cell.source))
    zero, checked = map(int, re.search(
        r"Grad-CAM is 0 everywhere on (\d+) of 500 test images; on (\d+) of those the weighted "
        r"sum is below 0", printed).groups())
    assert zero > 0, f"the smoke run shows no all-zero Grad-CAM map:\n{printed}"
    assert checked == zero, printed
    highest = float(re.search(r"the weighted sum runs from \S+ to (\S+)$", printed, re.M).group(1))
    assert highest < 0, printed
    heatmap = alts[0]
    assert heatmap.endswith("Grad-CAM is 0 everywhere (drawn black)."), heatmap
    assert "peaks" not in heatmap and "mass" not in heatmap, heatmap

    printed, alts = _printed_and_alts(next(cell for cell in code if "bare photo" in cell.source))
    photo = [line.removeprefix("bare photo: ") for line in printed.splitlines()
             if line.startswith("bare photo: ")]
    assert len(photo) == 2 and photo[0].startswith("saliency "), printed
    for sentence in photo:
        assert sentence in alts[0], (sentence, alts[0])


@pytest.mark.slow
def test_lesson_05_on_fake_data_says_fake_in_every_result(executed_lessons):
    """Smoke mode runs lesson 05 on the synthetic stand-in: every cell that prints a percentage
    computed from the data (accuracies, the history sentence, the speed ladder) and the
    transfer-learning line say FAKE in their output, as the pictures do."""
    notebook = executed_lessons.get(ROOT / "notebooks" / "05_cnn_on_cifar10.ipynb").notebook
    silent = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        printed = "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                          for output in cell.get("outputs", []))
        from_data = re.search(r"\b(data|history|result|rungs|confusion)\b", cell.source)
        if ((from_data and "%" in printed) or "resnet18" in cell.source) and "FAKE" not in printed:
            silent.append(f"cell {index}: {printed[:200]!r}")
    assert not silent, "results from fake data that do not say FAKE:\n" + "\n".join(silent)
