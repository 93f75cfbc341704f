"""The step cache, under its :mod:`fnnet.train` path (it lives in :mod:`fnnet.core.cache`)."""

from fnnet.core.cache import STEPS, StepCache, fingerprint

__all__ = ["STEPS", "StepCache", "fingerprint"]
