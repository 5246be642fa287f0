"""Widgets on a static page: what an executed notebook's widget outputs become on the website.

A page has no Python behind it, so an ipywidgets output cannot run there (and the widget
manager's scripts would come from a CDN). Each widget output is replaced by HTML built from the
widget state nbclient saved with the notebook:

* an explorer (a box whose class ends in ``-explorer``) shows its view -- the HTML its pure
  drawing function returned, with the same tables, captions and text alternatives as in
  JupyterLab -- under a line naming the settings it was drawn with, and a note that its controls
  work only live, in JupyterLab (``make lab``);
* any other widget (a training run's tqdm progress bars) shows its text, as a terminal would.
"""

from __future__ import annotations

import html
import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
LIVE_NOTE = ("Its sliders, menus and boxes need Python running: run it live with "
             "<code>make lab</code> and open this lesson in JupyterLab.")


def _models(notebook) -> dict:
    return notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _children(models: dict, model_id: str) -> list[str]:
    return [child.removeprefix("IPY_MODEL_")
            for child in models.get(model_id, {}).get("state", {}).get("children", [])]


def _walk(models: dict, model_id: str):
    """Every model under ``model_id`` (itself first), depth first, in the order shown."""
    yield model_id, models.get(model_id, {})
    for child in _children(models, model_id):
        yield from _walk(models, child)


def setting(model: dict) -> str | None:
    """``"stride = 2"``: what a control is set to, as a student would read it (None for
    anything that is not a control with a value, such as a button or a box)."""
    name, state = model.get("model_name", ""), model.get("state", {})
    label = state.get("description", "")
    if not label or name in ("ButtonModel", "HTMLModel", "LabelModel"):
        return None
    if name in ("DropdownModel", "RadioButtonsModel", "ToggleButtonsModel"):
        labels, index = state.get("_options_labels", []), state.get("index")
        value = labels[index] if isinstance(index, int) and index < len(labels) else None
    elif name == "SelectMultipleModel":
        labels = state.get("_options_labels", [])
        value = ", ".join(labels[i] for i in state.get("index", []) if i < len(labels)) or "none"
    elif name == "CheckboxModel":
        value = "on" if state.get("value") else "off"
    elif "value" in state:
        value = state["value"]
    else:
        return None
    return f"{label} = {value}"


def explorer_html(models: dict, model_id: str) -> str:
    """A still of an explorer: the settings line, the live note and the view's own HTML."""
    box = models[model_id]["state"]
    name = next(css for css in box.get("_dom_classes", []) if css.endswith("-explorer"))
    settings = [text for _, model in _walk(models, model_id) if (text := setting(model))]
    views = [model["state"].get("value", "") for _, model in _walk(models, model_id)
             if model.get("model_name") == "HTMLModel"]
    title = name.replace("-", " ")
    return (
        f'<div class="explorer-still {html.escape(name)}-still">'
        f'<p class="explorer-note"><strong>A still of the {html.escape(title)}</strong>, drawn with '
        f'{html.escape("; ".join(settings)) or "its first settings"}. {LIVE_NOTE}</p>'
        + "".join(views) + "</div>"
    )


def widget_text(models: dict, model_id: str) -> str:
    """The text a widget shows (a tqdm bar: its label, percentage and counts), as plain text."""
    parts = []
    for _, model in _walk(models, model_id):
        state = model.get("state", {})
        if model.get("model_name") in ("HTMLModel", "LabelModel"):
            parts.append(re.sub(r"<[^>]+>", "", html.unescape(state.get("value", ""))))
    return " ".join(part.replace("\u2007", " ").strip() for part in parts if part.strip())


def replace_widget_outputs(notebook) -> int:
    """Replace every widget output of ``notebook`` by static HTML (in place) and drop the saved
    widget state; the number of explorers shown as stills."""
    models = _models(notebook)
    explorers = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            model_id = data[WIDGET_VIEW]["model_id"]
            classes = models.get(model_id, {}).get("state", {}).get("_dom_classes", [])
            if any(css.endswith("-explorer") for css in classes):
                output["data"] = {"text/html": explorer_html(models, model_id)}
                explorers += 1
            else:
                text = widget_text(models, model_id)
                output["data"] = {"text/html": f'<pre class="widget-text">{html.escape(text)}</pre>'}
    notebook.metadata.pop("widgets", None)
    return explorers
