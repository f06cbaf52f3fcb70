"""Suite files: schema, loading, plugin import and grid expansion."""

from vidbench.suite.expand import expand_suite
from vidbench.suite.schema import METRICS, Suite, load_suite, parse_suite
from vidbench.suite.spec import RunSpec

__all__ = ["METRICS", "RunSpec", "Suite", "expand_suite", "load_suite", "parse_suite"]
