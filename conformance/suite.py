"""The conformance suite as one parametrised pytest test: one test per check and resource type.

The plugin points pytest here when ``--scim-url`` or ``--scim-embedded`` is given.
"""

from conformance.plugin import verdict


def test_scim(scim_result):
    verdict(scim_result)
