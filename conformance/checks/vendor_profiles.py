"""The replay steps of the vendor profiles (profiles/*.toml), registered as checks ``profile.<name>.<step>``.

They are data, not code: :mod:`conformance.replay` runs them. A step runs only when its profile is
selected (``--profile NAME``); it cites the RFC statement it relies on and the vendor's documentation.
"""

from ..replay import register_all

register_all()
