"""Where faults written for one area rightly disturb checks of another, declared in one place.

The attribute-selection, query and PATCH-schemas checks joined the suite after most faults were
written. Several older faults change answers those checks read too; each entry below says why the
disturbance is the fault showing, not a check misjudging. (A fault's own ``collateral`` holds what was
known when it was written; this module adds to it.)
"""

from __future__ import annotations

from . import faults_errors, faults_groups, faults_lifecycle, faults_patch, faults_writes  # noqa: F401
from .faultkit import FAULTS

ONLY_SOME_ANSWERS = ("the fault edits only some answers (GET by id, or all answers whatever attributes= asks), "
                     "so the attribute-selection checks see a partial or listed form that disagrees with it")
POPULATION = "the query checks' population is listed through the same filtered lists the fault spoils"

CROSSINGS: dict[str, dict[str, str]] = {
    "attr-reference-not-uri": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "attr-active-as-string": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "attr-datetime-date-only": {"projection": ONLY_SOME_ANSWERS},
    "attr-two-primaries": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "attr-emails-not-array": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "attr-employee-number-as-number": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "attr-integer-with-fraction": {"projection": ONLY_SOME_ANSWERS},
    "attr-password-returned": {"projection": "password comes back also where attributes= does not name it"},
    "etag-version-frozen": {"projection": ONLY_SOME_ANSWERS},
    "life-get-id-upper-case": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "life-list-returns-password-hash": {"projection.never-in-queries-and-writes":
                                        "a listed User carries a password hash, also when attributes= names it"},
    "life-put-changes-id": {"projection.put-response": "the PUT answer carries another id than the resource's"},
    "life-put-ignored": {"projection.put-response": "the PUT answer is the unchanged resource, whatever attributes= "
                                                    "asks",
                         "replace.immutable-set-when-unset": "the PUT setting the first member is ignored too"},
    "put-last-modified-frozen": {"projection.put-response": "the fault adds meta to the PUT answer"},
    "names-attributes-urn-ignored": {"projection.extension-attribute":
                                     "the extension attribute is selected by its URN-qualified name"},
    "names-value-case-lowered": {"projection": ONLY_SOME_ANSWERS, "search.attributes": ONLY_SOME_ANSWERS},
    "bulk-bulkid-unresolved": {"bulk.circular-references": "no bulkId reference is resolved, the cycle's neither",
                               "bulk.bulkid-in-extension": "no bulkId reference is resolved, in extensions neither"},
    "patch-extension-urn-path-rejected": {"patch.schemas-assumed": "it PATCHes an extension attribute by URN path",
                                          "patch.schemas-change-seen": "it adds an extension attribute by URN path"},
    "patch-replace-simple-ignored": {"patch.schemas-assumed": "it replaces a simple core attribute too"},
    "list-count-ignored": {"page": "count is what the paging checks vary"},
    "list-no-paging-fields": {"page.items-per-page": "itemsPerPage is one of the fields dropped"},
    "list-total-as-string": {"filter": POPULATION + " (totalResults is compared)", "page": POPULATION},
    "list-filtered-without-resources": {"filter": POPULATION, "sort": POPULATION, "page": POPULATION,
                                        "projection.filter-on-never": "its filtered list comes back empty",
                                        "search.resource-endpoint": "it compares .search with the filtered GET",
                                        "robustness.long-filter": "the long filter's answer comes back empty"},
    "list-no-match-404": {"filter.value-path": "a value filter matching none gets the fault's 404",
                          "filter.generated": "a generated filter matching none gets the fault's 404"},
    "put-deactivated-hidden-from-filter": {"filter": "the population has inactive users, hidden by the fault",
                                           "sort": "the population has inactive users, hidden by the fault",
                                           "page": "the population has inactive users, hidden by the fault"},
}

for _name, _extra in CROSSINGS.items():
    FAULTS[_name].collateral.update(_extra)
