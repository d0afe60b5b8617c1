"""Shared pytest fixtures for tests against the lab's real servers.

    @pytest.mark.lab_services("kamailio", kamailio={"users": ["1001"]})
    def test_something(lab):
        eps = lab.services["kamailio"].endpoints       # started before the test runs

    def test_other(lab):                                # an empty lab; start what you need
        lab.start("kamailio")

Each `lab` is its own temp dir and port set, so tests (and test processes) can run in parallel.
`module_lab` is one lab per test module, for tests that only read from shared servers.
When a test fails, the tail of every lab log is attached to its report ("lab logs").
Every test under tests/lab is marked `lab` (select with `-m lab`, skip with `-m "not lab"`)
and gets a 60 s timeout unless it sets its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

LAB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(LAB_DIR))

from sidetone_lab import Lab  # noqa: E402

DEFAULT_TIMEOUT_S = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: a test that runs real servers from tests/lab")
    config.addinivalue_line(
        "markers", "lab_services(*names, **options): services the `lab` fixture starts first "
        "(options by service name, e.g. kamailio={'users': ['1001']})")


def pytest_collection_modifyitems(config, items):
    has_timeout = config.pluginmanager.hasplugin("timeout")
    for item in items:
        if LAB_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.lab)
        if has_timeout and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name in ("lab", "module_lab"):
            the_lab = getattr(item, "funcargs", {}).get(name)
            if isinstance(the_lab, Lab):
                text = lab_logs(the_lab)
                if text:
                    report.sections.append((f"lab logs ({name})", text))


def lab_logs(lab: Lab, lines: int = 40) -> str:
    """The tail of every log of a lab, for failure reports."""
    parts = []
    if lab.root is None:
        return ""
    for log in sorted((lab.root / "logs").glob("*.log")):
        try:
            text = log.read_text(errors="replace").splitlines()
        except OSError:
            continue
        text = [line for line in text if "qm_free(): BUG: freeing already freed" not in line]
        parts.append(f"--- {log.name} (last {lines} lines) ---\n" + "\n".join(text[-lines:]))
    return "\n".join(parts)


def _start_marked(request, lab: Lab) -> None:
    marker = request.node.get_closest_marker("lab_services")
    if marker is None:
        return
    for name in marker.args:
        lab.start(name, **marker.kwargs.get(name.partition(":")[0], {}))


@pytest.fixture
def lab(request):
    """A fresh lab for one test (plus the services named by @pytest.mark.lab_services)."""
    with Lab() as the_lab:
        _start_marked(request, the_lab)
        yield the_lab


@pytest.fixture(scope="module")
def module_lab(request):
    """One lab shared by the tests of a module: start services with `module_lab.start()`
    (it returns the running service's endpoints when it is already up)."""
    with Lab() as the_lab:
        yield the_lab
