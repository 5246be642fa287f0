"""The thin wiring every explorer shares: controls in, one HTML view out.

An explorer is a pure drawing function (keyword arguments in, an HTML string out) plus an
:class:`Explorer` that owns the ipywidgets controls and calls the function whenever one of
them changes. Tests and notebooks can reach everything::

    explorer = conv_explorer()
    explorer.controls["stride"].value = 2     # what a student does with the slider
    explorer.view.value                       # the HTML now shown (numbers are real text)
    explorer.state()                          # {"stride": 2, ...}: the drawing function's input
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets


def error_html(message: str, lead: str = "Cannot draw:") -> str:
    """The view shown instead of a picture when the controls ask for something impossible:
    ``lead`` in bold, then ``message`` (escaped), in red."""
    bold = f"<b>{html.escape(lead)}</b> " if lead else ""
    return f'<p class="error" style="color:#b30000">{bold}{html.escape(message)}</p>'


def warning_html(message: str) -> str:
    """A warning line under a picture (the windows do not tile the input, ...), in orange."""
    return f'<p class="warning" style="color:#a35a00">&#9888; {html.escape(message)}</p>'


def shape_warning(n: int, f: int, p: int, s: int) -> str | None:
    """A sentence when the windows do not tile the padded input exactly, else ``None``.

    >>> shape_warning(7, 3, 0, 2) is None          # (7 - 3) / 2 = 2, whole
    True
    >>> shape_warning(6, 3, 0, 2)
    '(n + 2p - f) = 3 is not divisible by s = 2: floor(3 / 2) = 1, so the last pixel of the padded row is never covered by a window'
    """
    if f > n + 2 * p:
        return None  # no window fits at all: the explorer says so instead
    room = n + 2 * p - f
    left_over = room % s
    if left_over == 0:
        return None
    last = "the last pixel of the padded row is" if left_over == 1 else \
        f"the last {left_over} pixels of the padded row are"
    return (f"(n + 2p - f) = {room} is not divisible by s = {s}: floor({room} / {s}) = "
            f"{room // s}, so {last} never covered by a window")


def slider(description: str, value: int, low: int, high: int) -> widgets.IntSlider:
    """An integer slider whose label is ``description`` (short, lower case: "stride")."""
    return widgets.IntSlider(value=value, min=low, max=high, step=1, description=description,
                             continuous_update=True, style={"description_width": "initial"})


def dropdown(description: str, options, value=None) -> widgets.Dropdown:
    options = list(options)
    return widgets.Dropdown(options=options, value=options[0] if value is None else value,
                            description=description, style={"description_width": "initial"})


def checkbox(description: str, value: bool = False) -> widgets.Checkbox:
    return widgets.Checkbox(value=value, description=description, indent=False)


def text_box(description: str, value: str, placeholder: str = "") -> widgets.Text:
    """A one-line text box that reports its value when the student presses Enter (or leaves
    the box). Its ``description`` is a ``<label>`` tied to the box, so a screen reader reads it."""
    return widgets.Text(value=value, description=description, placeholder=placeholder,
                        continuous_update=False, style={"description_width": "initial"},
                        layout=widgets.Layout(width="34em"))


def button(description: str, tooltip: str = "") -> widgets.Button:
    """A button whose text says what it does (a screen reader reads the same text)."""
    return widgets.Button(description=description, tooltip=tooltip or description,
                          layout=widgets.Layout(width="auto"))


class Explorer(widgets.VBox):
    """Controls on top, the view (an ``ipywidgets.HTML``) below.

    ``draw(**state) -> str`` is called with ``{name: control.value}`` for every control.
    ``buttons`` (e.g. "apply") sit in ``layout_rows`` beside the controls; the subclass wires them.
    Subclasses override :meth:`sync_controls` to keep one control's range consistent with the
    others (e.g. the window position's maximum when the stride changes); it runs before each
    redraw, and the control changes it makes do not trigger redraws of their own.
    """

    def __init__(self, name: str, controls: dict[str, widgets.Widget], draw: Callable[..., str],
                 layout_rows: list[list[str]] | None = None,
                 buttons: dict[str, widgets.Button] | None = None):
        self.name = name
        self.controls = controls
        self.buttons = buttons or {}  # laid out with the controls, but not part of the state
        self.draw = draw
        self.view = widgets.HTML()
        self.view.add_class(f"{name}-view")  # the browser test finds the view by this class
        self._updating = False
        rows = layout_rows or [list(controls)]
        placed = {**controls, **self.buttons}
        boxes = [widgets.HBox([placed[key] for key in row]) for row in rows]
        super().__init__(boxes + [self.view])
        self.add_class(name)
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.render()

    def state(self) -> dict:
        """The drawing function's input: every control's current value, by name."""
        return {key: control.value for key, control in self.controls.items()}

    def sync_controls(self) -> None:
        """Adjust dependent control ranges; the default has none."""

    def render(self) -> str:
        """Redraw now and return the new HTML."""
        self._updating = True
        try:
            self.sync_controls()
        finally:
            self._updating = False
        self.view.value = self.draw(**self.state())
        return self.view.value

    def set_quietly(self, name: str, value) -> None:
        """Set a control without a redraw of its own (the caller redraws once)."""
        self._updating = True
        try:
            self.controls[name].value = value
        finally:
            self._updating = False

    def _on_change(self, change) -> None:
        if not self._updating:
            self.on_control_change(change)
            self.render()

    def on_control_change(self, change) -> None:
        """Called before the redraw when the student changes a control; the default does
        nothing. ``change.owner`` is the control."""
