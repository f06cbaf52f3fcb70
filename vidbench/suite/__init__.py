"""Suite files: schema, loading, plugin import and grid expansion (resolved on first use: the schema and
RunSpec import no torch, expansion imports the registries)."""

from vidbench.lazy import lazy_face

_FACE = {"expand_suite": "vidbench.suite.expand", "METRICS": "vidbench.suite.schema",
         "Suite": "vidbench.suite.schema", "load_suite": "vidbench.suite.schema", "parse_suite": "vidbench.suite.schema",
         "RunSpec": "vidbench.suite.spec"}
__all__ = sorted(_FACE)
__getattr__, __dir__ = lazy_face(__name__, _FACE)
