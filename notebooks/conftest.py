"""nbval settings for the notebooks: stderr (warnings, progress bars) is never compared; under strict replay,
every recorded call must be used by a notebook that ran through (a recording carries no dead weight)."""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

from synthlab.llm.recording import AUDIT_ENV_VAR, read_recording, recording_mode, recording_path

_outcomes: dict[str, set[str]] = defaultdict(set)


def pytest_configure(config):
    if recording_mode() == "strict" and not os.environ.get(AUDIT_ENV_VAR):
        os.environ[AUDIT_ENV_VAR] = tempfile.mkdtemp(prefix="synthlab-audit-")  # the kernels inherit it


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "application/javascript", "text/html")


def pytest_runtest_logreport(report):
    if ".ipynb::" in report.nodeid:
        _outcomes[report.nodeid.split("::")[0]].add(report.outcome)


def pytest_sessionfinish(session, exitstatus):
    folder = os.environ.get(AUDIT_ENV_VAR)
    if recording_mode() != "strict" or not folder:
        return
    unused = {}
    for nodeid, outcomes in _outcomes.items():
        name = Path(nodeid).stem
        if outcomes != {"passed"} or not recording_path(name).exists():
            continue  # a notebook that failed or stopped early cannot tell which calls it needs
        used_file = Path(folder) / f"{name}.used"
        used = set(used_file.read_text().split()) if used_file.exists() else set()
        _, entries = read_recording(recording_path(name))
        if set(entries) - used:
            unused[name] = len(set(entries) - used)
    if unused:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(
            f"recordings with calls no notebook made (re-record them with make record NOTEBOOKS=...): {unused}",
            red=True,
        )
        session.exitstatus = 1
