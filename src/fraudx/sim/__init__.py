"""The regional simulator: synthetic but realistic data with ground truth (docs/simulator.md).

``generate(out, scale=..., seed=...)`` writes a region into a directory; ``load(node, out)``
reports what each country's police would know to a node's indicator registry;
``ensure_region(dir)`` generates the small demo region once and reuses it afterwards.
"""

from fraudx.sim.generate import Manifest, ensure_region, generate
from fraudx.sim.load import LoadReport, load
from fraudx.sim.model import DEFAULT_COUNTRIES, Parameters, Scale

__all__ = [
    "DEFAULT_COUNTRIES",
    "LoadReport",
    "Manifest",
    "Parameters",
    "Scale",
    "ensure_region",
    "generate",
    "load",
]
