"""Repository-wide pytest settings: hypothesis profiles (fixed seeds in CI)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# fixed seeds unless a developer asks for exploration with HYPOTHESIS_PROFILE=dev
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
