"""The checks, one module per RFC section (``rfc7644_s3_3_create`` is RFC 7644 §3.3).

Importing this package registers every check, module by module in the order of the RFC sections.
"""

import importlib
import pkgutil
import re


def _section_order(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: _section_order(m.name)):
    importlib.import_module(f"{__name__}.{_module.name}")
