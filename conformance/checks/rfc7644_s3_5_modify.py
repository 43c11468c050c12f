"""RFC 7644 §3.5 — modifying resources: PUT is required, PATCH recommended.

PUT itself is exercised by the replace checks (§3.5.1); this module grades whether PATCH is offered.
"""

from __future__ import annotations

from ..registry import check
from ..verdicts import NotApplicable, expect


@check(
    "patch.advertised",
    "PATCH is offered (ServiceProviderConfig says patch.supported=true)",
    requirements=["7644-3.5-02"],
    level="SHOULD",
)
def patch_advertised(ctx):
    """Resources such as groups can be large, so partial modification by PATCH is recommended; the
    target says whether it offers PATCH in /ServiceProviderConfig."""
    reply = ctx.discovery.spc_reply
    if reply is not None:
        ctx.attach(reply.exchange)
    block = ctx.discovery.spc.get("patch")
    if not isinstance(block, dict) or not isinstance(block.get("supported"), bool):
        raise NotApplicable("precondition: /ServiceProviderConfig has no boolean patch.supported; "
                            "see discovery.spc.patch")
    expect(ctx.discovery.supports("patch"),
           f"/ServiceProviderConfig says patch is {ctx.discovery.spc.get('patch')!r}; PATCH is recommended so "
           "that large resources can be changed in part")
    ctx.passed("patch.supported is true")
