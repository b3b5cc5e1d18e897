"""Test stand-in for PEAK-Rules' public API (see tests/standins/README.md)."""
from peak.rules.core import (AmbiguousMethods, NoApplicableMethods, abstract, after,  # noqa
                             around, before, when)
