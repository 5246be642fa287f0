"""``make hub-teardown`` as an administrator runs it, in any order: a plain teardown, then one with
``PURGE=1``, then once more -- without a hub running (``deploy/jupyterhub/course_hub.py``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))

import course_hub  # noqa: E402


def test_purge_after_a_plain_teardown_removes_what_it_kept_and_again_does_nothing(tmp_path, capsys):
    folder = tmp_path / "hub"
    env = tmp_path / "elsewhere" / "env"  # set up with --env somewhere else
    (env / "bin").mkdir(parents=True)
    (folder / "proxy" / "node_modules").mkdir(parents=True)
    (folder / course_hub.LEFTOVERS).write_text(json.dumps({"env": str(env)}))  # what a plain teardown writes
    assert course_hub.main(["teardown", "--dir", str(folder), "--purge"]) == 0
    assert not env.exists() and not folder.exists()
    assert "removed the environment" in capsys.readouterr().out
    assert course_hub.main(["teardown", "--dir", str(folder), "--purge"]) == 0
    assert "nothing to remove" in capsys.readouterr().out
    assert course_hub.main(["teardown", "--dir", str(folder)]) == 0
    assert "nothing to tear down" in capsys.readouterr().out


def test_a_plain_teardown_records_the_environment_it_keeps(tmp_path):
    settings = course_hub.Settings(dir=str(tmp_path / "hub"), env=str(tmp_path / "env"), students=[])
    settings.save()
    course_hub.teardown(settings, purge=False)
    assert json.loads((tmp_path / "hub" / course_hub.LEFTOVERS).read_text()) == {"env": str(tmp_path / "env")}
    assert not settings.state.exists()
