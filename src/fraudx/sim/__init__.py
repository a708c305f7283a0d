"""The regional simulator: synthetic but realistic data with ground truth (docs/simulator.md).

``generate(out, scale=..., seed=...)`` writes a region into a directory; ``load(node, out)``
reports what each country's police would know to a node's indicator registry.
"""

from fraudx.sim.generate import Manifest, generate
from fraudx.sim.load import LoadReport, load
from fraudx.sim.model import DEFAULT_COUNTRIES, Parameters, Scale

__all__ = ["DEFAULT_COUNTRIES", "LoadReport", "Manifest", "Parameters", "Scale", "generate", "load"]
