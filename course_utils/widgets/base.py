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

from collections.abc import Callable

import ipywidgets as widgets


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


def textarea(description: str, value: str, placeholder: str = "") -> widgets.Textarea:
    """A text box that reports its value when the student leaves it (or presses Shift+Enter)."""
    return widgets.Textarea(value=value, description=description, rows=3, placeholder=placeholder,
                            continuous_update=False, style={"description_width": "initial"})


class Explorer(widgets.VBox):
    """Controls on top, the view (an ``ipywidgets.HTML``) below.

    ``draw(**state) -> str`` is called with ``{name: control.value}`` for every control.
    Subclasses override :meth:`sync_controls` to keep one control's range consistent with the
    others (e.g. the window position's maximum when the stride changes); it runs before each
    redraw, and the control changes it makes do not trigger redraws of their own.
    """

    def __init__(self, name: str, controls: dict[str, widgets.Widget], draw: Callable[..., str],
                 layout_rows: list[list[str]] | None = None):
        self.name = name
        self.controls = controls
        self.draw = draw
        self.view = widgets.HTML()
        self.view.add_class(f"{name}-view")  # the browser test finds the view by this class
        self._updating = False
        rows = layout_rows or [list(controls)]
        boxes = [widgets.HBox([controls[key] for key in row]) for row in rows]
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

    def _on_change(self, _change) -> None:
        if not self._updating:
            self.render()
