"""Backends register themselves: the registered runtimes are the `runtimes` axis' values, and a backend added
in one file (here, in this test) serves its runtime and refuses what it cannot serve, at admission."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import make_spec
from vidbench.axes import RUNTIMES
from vidbench.backends import BACKENDS, EagerBackend, backend_for, register_backend
from vidbench.backends.registry import BACKENDS as REGISTERED


@pytest.fixture
def restored_backends():
    saved = dict(BACKENDS)
    yield
    BACKENDS.clear()
    BACKENDS.update(saved)


def test_the_registered_backends_are_the_runtimes_axis():
    assert set(BACKENDS) == set(RUNTIMES) and BACKENDS is REGISTERED
    assert all(backend.name == runtime for runtime, backend in BACKENDS.items())


def test_a_backend_in_one_file_serves_its_runtime_and_refuses_what_it_cannot(restored_backends):
    @register_backend
    class HalfOnly(EagerBackend):
        """A test-only runtime: eager PyTorch, for fp16 runs only."""

        name = "half_only"

        def unsupported(self, spec):
            return None if spec.precision == "fp16" else f"the half_only runtime runs fp16, not {spec.precision}"

    fp32 = make_spec("c3d_tiny", runtime="half_only", metrics=("latency",))
    assert isinstance(backend_for(fp32), HalfOnly)
    assert backend_for(fp32).unsupported(fp32) == "the half_only runtime runs fp16, not fp32"
    assert backend_for(make_spec("c3d_tiny", runtime="half_only", precision="fp16")).unsupported(fp32) is not None
    fp16 = make_spec("c3d_tiny", runtime="half_only", precision="fp16", metrics=("latency",))
    assert backend_for(fp16).unsupported(fp16) is None
    # admission, which every producer of runs calls before anything runs, refuses it with that line
    from vidbench.admission import admit

    assert "the half_only runtime runs fp16, not fp32" in admit(fp32)
    assert admit(fp16) is None


def test_a_runtime_registered_twice_is_refused(restored_backends):
    with pytest.raises(ValueError, match="already registered for the runtime 'eager'"):
        register_backend(type("Again", (EagerBackend,), {"name": "eager"}))


def test_importing_the_backends_imports_no_torch():
    code = "import sys, vidbench.backends as b; b.backend_for; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
