"""The checks, one module per RFC section (``rfc7644_s3_3_create`` is RFC 7644 §3.3).

Importing this package registers every check.
"""

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
