"""What tests of several packages share: one local Ray instance per test module that asks for it."""

from __future__ import annotations

import pytest

RAY_MISSING = "Ray is not installed (pip install -r requirements-ray.txt)"
# Ray swaps 127.0.0.1 for the machine's address unless multi-machine clusters are off; with them off every Ray
# process (GCS, raylet, workers, agents) binds to the loopback interface only.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs, no GPU, listening on the loopback interface only, shipping every study's packages;
    skipped with the reason where Ray cannot be imported."""
    ray = pytest.importorskip("ray", reason=RAY_MISSING)
    from Bridge.runner import PACKAGES
    from Runs.ray_trials import runtime_env

    with pytest.MonkeyPatch.context() as patch:
        for name, value in RAY_ENV.items():
            patch.setenv(name, value)
        patch.setattr(ray._private.ray_constants, "ENABLE_RAY_CLUSTER", False)
        ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, _node_ip_address="127.0.0.1",
                 object_store_memory=100 * 1024**2, runtime_env=runtime_env(PACKAGES))
        try:
            yield ray
        finally:
            ray.shutdown()
