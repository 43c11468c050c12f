"""The embedded target's storage: scim2-server's in-memory storage with a prefix index.

scim2-server's ``InMemoryStorage`` walks every stored resource of a type for any filter except a
single ``eq`` on a string. The suite scopes every query it sends to its own data with a clause such
as ``and userName sw "<run id>"``, so on a tenant of 100,000 users each query of the embedded target
would cost a walk over 100,000 resources: the benchmarks would measure scim2-server's scan, not the
suite. A production server answers such a clause from an index on userName; this storage does the
same. A search whose filter bounds its matches by ``sw`` or ``eq`` on single-valued strings (such a
comparison, a conjunction holding one, or a disjunction of bounded terms, like the robustness
checks' long ``or`` chains) walks only the resources whose value starts with the text, found by
bisection in sorted indexes kept up to date on every write. The whole filter is then evaluated on
them exactly as before, and the page sorted as before, so the answers are scim2-server's own, only
found faster.

An unfiltered, unsorted page by index (``GET /Users?count=1``) is scim2-server's sort of every resource by
id, sliced: here the smallest ids are picked without building a sort key for every resource (same page,
same totalResults).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from typing import Any

from scim2_models import AttributeBinding, ScimFilter
from scim2_models.path import CompareOperator, Comparison, LogicalExpr, LogicalOperator
from scim2_server.memory import InMemoryStorage
from scim2_server.storage import SearchPage

try:  # the policy comparisons run under; looked up once per index build instead of once per value
    from scim2_models.policy import _effective_policy
except ImportError:  # pragma: no cover - another scim2-models: comparable() finds the policy itself
    def _effective_policy() -> Any:
        return None

Key = tuple[Any, str]
# Indexed from a resource type's first write, as a database indexes what clients look resources up by;
# any other string attribute is indexed on the first search that needs it.
INDEXED_FROM_THE_START = ("userName", "displayName", "externalId")
Plan = list[tuple[AttributeBinding, str]]  # prefix ranges whose union holds every match


def _ikey(binding: AttributeBinding) -> Any:
    """What an index is kept under: the attribute's URN, the same whichever model class resolved it."""
    return binding.urn or binding


class PrefixIndexedStorage(InMemoryStorage):
    """``InMemoryStorage`` that answers ``sw`` scoped searches from a sorted index."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._prefix_indexes: dict[tuple[Any, Any], list[tuple[str, str]]] = {}
        self._prefix_values: dict[Key, dict[AttributeBinding, str]] = {}
        self._primed: set[Any] = set()
        self._bindings: dict[tuple[Any, Any], AttributeBinding] = {}  # index -> the attribute it holds
        super().__init__(*args, **kwargs)

    @property
    def resources(self) -> list[Any]:
        return InMemoryStorage.resources.fget(self)  # type: ignore[attr-defined]

    @resources.setter
    def resources(self, resources: list[Any]) -> None:
        self._prefix_indexes, self._prefix_values, self._primed, self._bindings = {}, {}, set(), {}
        InMemoryStorage.resources.fset(self, resources)  # type: ignore[attr-defined]

    # -- searching ------------------------------------------------------------------------------------
    def search(self, resource_types: list[Any], search_request: Any, *, position: Any = None) -> Any:
        names = list(dict.fromkeys(rt.name for rt in resource_types))
        plain_page = (
            len(names) == 1 and search_request.filter is None and search_request.sort_by is None
            and search_request.cursor is None and position is None and search_request.count is not None
        )
        if not plain_page:
            return super().search(resource_types, search_request, position=position)
        with self.lock:  # no sort value: scim2-server orders by id (its sort key is (True, "", id))
            resources = self._resources.get(names[0], {})
            start = search_request.start_index_0 or 0
            ids = heapq.nsmallest(start + search_request.count, resources)[start:]
            return SearchPage(len(resources), [resources[rid].model_copy(deep=True) for rid in ids])

    def _candidates(self, names: list[Any], scim_filter: ScimFilter[Any] | None) -> list[Any]:
        if scim_filter is None:
            return super()._candidates(names, scim_filter)
        out: list[Any] = []
        for name in names:
            resources = self._resources.get(name, {})
            plan = self._plan(scim_filter, resources) if resources else None
            if plan is None:
                out.extend(super()._candidates([name], scim_filter) if len(names) == 1
                           else resources.values())
                continue
            found: dict[str, Any] = {}
            for binding, prefix in plan:
                index = self._prefix_index(name, binding, resources)
                for value, rid in index[bisect_left(index, (prefix, "")):]:
                    if not value.startswith(prefix):
                        break
                    found[rid] = resources[rid]
            out.extend(found.values())  # the page is sorted afterwards (by sort value, then id), as ever
        return out

    @classmethod
    def _plan(cls, scim_filter: ScimFilter[Any], resources: dict[str, Any]) -> Plan | None:
        """Prefix ranges whose union holds every match: (attribute, comparable prefix) pairs, or None."""
        flt = scim_filter
        if flt.model is None:
            try:
                flt = ScimFilter[type(next(iter(resources.values())))](str(scim_filter))  # type: ignore[misc]
            except Exception:  # noqa: BLE001 - whatever the parser says, the plain walk still answers
                return None
        return cls._plan_node(flt, flt.ast)

    @classmethod
    def _plan_node(cls, flt: ScimFilter[Any], node: Any) -> Plan | None:
        if isinstance(node, Comparison):  # sw, and eq (a value is a prefix of itself)
            if node.op not in (CompareOperator.sw, CompareOperator.eq) or not isinstance(node.value, str):
                return None
            binding = flt.resolve_comparison(node.attr_path, strict=False)
            if binding is None or binding.is_multivalued or binding.target_type is not str:
                return None
            try:
                prefix = binding.comparable(node.value)
            except ValueError:
                return None
            return [(binding, prefix)] if isinstance(prefix, str) else None
        if isinstance(node, LogicalExpr):
            plans = [cls._plan_node(flt, term) for term in node.terms]
            if node.op == LogicalOperator.and_:  # any one term bounds the matches: the narrowest-looking one
                viable = [p for p in plans if p]
                return max(viable, key=lambda p: (min(len(x) for _, x in p), -len(p))) if viable else None
            if node.op == LogicalOperator.or_ and all(plans):  # every term bounded: the union bounds them
                return [pair for p in plans for pair in p]  # type: ignore[union-attr]
        return None

    def _value(self, resource: Any, binding: AttributeBinding, policy: Any = None) -> Any:
        """The comparable value of ``binding`` in ``resource``; a direct read for a core top-level attribute."""
        if binding.sub_field_name is None and binding.field_name in type(resource).model_fields:
            raw = getattr(resource, binding.field_name, None)
            try:
                return binding.comparable(raw, policy) if raw is not None else None
            except ValueError:
                return None
        return self._comparable_value(resource, binding)

    def _prefix_index(self, name: Any, binding: AttributeBinding, resources: dict[str, Any]) -> list[tuple[str, str]]:
        key = (name, _ikey(binding))
        if key not in self._prefix_indexes:
            entries = []
            policy = _effective_policy()
            for rid, resource in resources.items():
                value = self._value(resource, binding, policy)
                if isinstance(value, str):
                    entries.append((value, rid))
                    self._prefix_values.setdefault((name, rid), {})[key[1]] = value
            entries.sort()
            self._prefix_indexes[key] = entries
            self._bindings[key] = binding
        return self._prefix_indexes[key]

    # -- keeping the index up to date ------------------------------------------------------------------
    def _store(self, resource: Any, values: dict[str, Any]) -> None:
        super()._store(resource, values)  # removes the old entry first (through _remove)
        key = (resource.meta.resource_type, resource.id)
        if key[0] not in self._primed:  # the first write of this type: its index exists before any search
            self._primed.add(key[0])
            self._prime(key[0], type(resource))
            return  # _prime indexed the stored resources, this one among them
        for (name, ikey), index in self._prefix_indexes.items():
            if name != key[0]:
                continue
            value = self._value(resource, self._bindings[(name, ikey)])
            if isinstance(value, str):
                insort(index, (value, key[1]))
                self._prefix_values.setdefault(key, {})[ikey] = value

    def _prime(self, name: Any, model: type) -> None:
        resources = self._resources.get(name, {})
        for attr in INDEXED_FROM_THE_START:
            try:
                flt = ScimFilter[model](f'{attr} eq ""')  # type: ignore[valid-type]
                binding = flt.resolve_comparison(flt.ast.attr_path, strict=False)
            except Exception:  # noqa: BLE001 - not an attribute of this type
                continue
            if binding is not None and not binding.is_multivalued and binding.target_type is str:
                self._prefix_index(name, binding, resources)

    def _remove(self, key: Key) -> None:
        super()._remove(key)
        for ikey, value in self._prefix_values.pop(key, {}).items():
            index = self._prefix_indexes.get((key[0], ikey))
            if index is None:
                continue
            at = bisect_left(index, (value, key[1]))
            if at < len(index) and index[at] == (value, key[1]):
                del index[at]
