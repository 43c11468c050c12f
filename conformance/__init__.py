"""scim-conformance: a SCIM 2.0 conformance suite that cites the requirement behind every verdict."""

__version__ = "0.1.0"
