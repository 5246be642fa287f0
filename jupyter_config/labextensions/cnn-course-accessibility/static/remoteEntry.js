/*
 * A JupyterLab 4 extension of the course, written by hand (no build step), for the explorers'
 * keyboard and screen-reader users. For every ipywidgets control in the page it
 *
 * 1. names a slider's handle by the slider's description. ipywidgets 8 draws a slider with
 *    noUiSlider, whose handle is a <div role="slider"> with no name; the description is a
 *    <label> that is not tied to it, so a screen reader says "slider, 3" without saying which
 *    one (axe-core: aria-input-field-name, serious). The read-out beside it is the second tab
 *    stop of every slider: an editable <div contenteditable> (type a value, press Enter) with
 *    neither a role nor a name, read as just "3". It stays a tab stop -- typing a value is
 *    quicker than many arrow presses -- and becomes a text box named "<description> value";
 * 2. keeps JupyterLab's notebook shortcuts away from the control's keys (the attribute
 *    data-lm-suppress-shortcuts on the control and everything in it that takes the focus,
 *    which Lumino's keymap honours). Otherwise, in command mode,
 *    ArrowUp/ArrowDown on a menu or a slider move to another cell (focus leaves the control),
 *    and Enter on a button enters edit mode instead of pressing the button.
 *
 * How JupyterLab loads it: the server lists the folder as a prebuilt ("federated") extension
 * (jupyter_config/course/jupyter_server_config.py adds it to LabApp.extra_labextensions_path);
 * the page loads this file, then calls init() and get("./extension") on the container below,
 * exactly as it does for a webpack-built extension. The plugin has no dependencies.
 */
(function () {
  "use strict";

  var CONTROLS = [
    ".jupyter-widgets.widget-slider", ".jupyter-widgets.widget-dropdown",
    ".jupyter-widgets.widget-select", ".jupyter-widgets.widget-select-multiple",
    ".jupyter-widgets.widget-checkbox", ".jupyter-widgets.widget-button",
    ".jupyter-widgets.widget-toggle-button", ".jupyter-widgets.widget-toggle-buttons",
    ".jupyter-widgets.widget-radio", ".jupyter-widgets.widget-text",
    ".jupyter-widgets.widget-textarea"
  ].join(", ");

  // What the student focuses in a control. Lumino matches a shortcut's selector from the focused
  // element upwards and stops at the attribute, so the focused element itself must carry it.
  var FOCUSABLE = "select, input, textarea, button, [contenteditable='true'], [role='slider']";

  function fix(control) {
    [control].concat(Array.prototype.slice.call(control.querySelectorAll(FOCUSABLE)))
      .forEach(function (element) {
        if (!element.hasAttribute("data-lm-suppress-shortcuts")) {
          element.setAttribute("data-lm-suppress-shortcuts", "true");
        }
      });
    if (control.classList.contains("widget-slider")) {
      var label = control.querySelector(".widget-label");
      var name = label ? label.textContent.trim() : "";
      if (!name) {
        return;
      }
      control.querySelectorAll(".noUi-handle[role='slider']").forEach(function (handle) {
        setIfChanged(handle, "aria-label", name);
      });
      control.querySelectorAll(".widget-readout[contenteditable='true']").forEach(function (readout) {
        setIfChanged(readout, "role", "textbox");
        setIfChanged(readout, "aria-label", name + " value");
      });
    }
  }

  function setIfChanged(element, attribute, value) {
    if (element.getAttribute(attribute) !== value) {
      element.setAttribute(attribute, value);
    }
  }

  function fixWithin(node) {
    if (node.nodeType === 3 && node.parentElement && node.parentElement.matches(".widget-label")) {
      node = node.parentElement;  // a description set or changed after the slider was drawn
    }
    if (node.nodeType !== 1) {
      return;
    }
    var control = node.closest(CONTROLS);
    if (control) {
      fix(control);  // a handle re-created inside a slider (its range changed), a new label
    }
    node.querySelectorAll(CONTROLS).forEach(fix);
  }

  var plugin = {
    id: "cnn-course-accessibility:widget-controls",
    description: "Names ipywidgets' slider handles and read-outs and keeps notebook shortcuts off their keys.",
    autoStart: true,
    activate: function () {
      fixWithin(document.body);
      // Widgets are drawn (and sliders re-drawn when their range changes) long after start-up.
      new MutationObserver(function (records) {
        records.forEach(function (record) {
          record.addedNodes.forEach(fixWithin);
        });
      }).observe(document.body, { childList: true, subtree: true });
    }
  };

  var containers = (window._JUPYTERLAB = window._JUPYTERLAB || {});
  containers["cnn-course-accessibility"] = {
    init: function () {
      return Promise.resolve();
    },
    get: function (module) {
      if (module !== "./extension") {
        return Promise.reject(new Error("cnn-course-accessibility has no module " + module));
      }
      return Promise.resolve(function () {
        return { __esModule: true, default: [plugin] };
      });
    }
  };
})();
