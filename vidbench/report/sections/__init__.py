"""The report's sections, one file each, registered in report order (`base.REGISTRY`, by `order`).

Importing this package imports every module in it but the helpers, and each registers its section on import
(`register(Section(...))`), so a new section is one new file here. See ARCHITECTURE.md, "Where to add things".
"""

import importlib
import pkgutil

from vidbench.report.sections.base import REGISTRY, Section, register, sections, shown

HELPERS = {"base", "blocks", "columns"}  # the modules that declare no section
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in HELPERS:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Section", "register", "sections", "shown"]
