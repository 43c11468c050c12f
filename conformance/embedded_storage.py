"""The embedded target's storage: scim2-server's in-memory storage with a prefix index.

scim2-server's ``InMemoryStorage`` walks every stored resource of a type for any filter except a
single ``eq`` on a string. The suite scopes every query it sends to its own data with a clause such
as ``and userName sw "<run id>"``, so on a tenant of 100,000 users each query of the embedded target
would cost a walk over 100,000 resources: the benchmarks would measure scim2-server's scan, not the
suite. A production server answers such a clause from an index on userName; this storage does the
same. A search whose filter is, or is a conjunction holding, ``<single-valued string> sw "<text>"``
walks only the resources whose value starts with the text (found by bisection in a sorted index kept
up to date on every write); the whole filter is then evaluated on them exactly as before, so the
answers are the same as scim2-server's, only found faster.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any

from scim2_models import AttributeBinding, ScimFilter
from scim2_models.path import CompareOperator, Comparison, LogicalExpr, LogicalOperator
from scim2_server.memory import InMemoryStorage

try:  # the policy comparisons run under; looked up once per index build instead of once per value
    from scim2_models.policy import _effective_policy
except ImportError:  # pragma: no cover - another scim2-models: comparable() finds the policy itself
    def _effective_policy() -> Any:
        return None

Key = tuple[Any, str]


class PrefixIndexedStorage(InMemoryStorage):
    """``InMemoryStorage`` that answers ``sw`` scoped searches from a sorted index."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._prefix_indexes: dict[tuple[Any, AttributeBinding], list[tuple[str, str]]] = {}
        self._prefix_values: dict[Key, dict[AttributeBinding, str]] = {}
        super().__init__(*args, **kwargs)

    @property
    def resources(self) -> list[Any]:
        return InMemoryStorage.resources.fget(self)  # type: ignore[attr-defined]

    @resources.setter
    def resources(self, resources: list[Any]) -> None:
        self._prefix_indexes, self._prefix_values = {}, {}
        InMemoryStorage.resources.fset(self, resources)  # type: ignore[attr-defined]

    # -- searching ------------------------------------------------------------------------------------
    def _candidates(self, names: list[Any], scim_filter: ScimFilter[Any] | None) -> list[Any]:
        if len(names) == 1 and scim_filter is not None:
            resources = self._resources.get(names[0], {})
            found = self._prefix_term(scim_filter, resources)
            if found is not None:
                binding, prefix = found
                index = self._prefix_index(names[0], binding, resources)
                out = []
                for value, rid in index[bisect_left(index, (prefix, "")):]:
                    if not value.startswith(prefix):
                        break
                    out.append(resources[rid])
                return out
        return super()._candidates(names, scim_filter)

    @staticmethod
    def _prefix_term(scim_filter: ScimFilter[Any], resources: dict[str, Any]) -> tuple[AttributeBinding, str] | None:
        """(attribute, comparable prefix) of an ``sw`` every match must satisfy, or None."""
        node = scim_filter.ast
        terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
        for term in terms:
            if not (isinstance(term, Comparison) and term.op == CompareOperator.sw and isinstance(term.value, str)):
                continue
            flt = scim_filter
            if flt.model is None:
                if not resources:
                    return None
                try:
                    flt = ScimFilter[type(next(iter(resources.values())))](str(scim_filter))  # type: ignore[misc]
                except Exception:  # noqa: BLE001 - whatever the parser says, the plain walk still answers
                    return None
            binding = flt.resolve_comparison(term.attr_path, strict=False)
            if binding is None or binding.is_multivalued or binding.target_type is not str:
                continue
            try:
                prefix = binding.comparable(term.value)
            except ValueError:
                continue
            if isinstance(prefix, str):
                return binding, prefix
        return None

    def _value(self, resource: Any, binding: AttributeBinding, policy: Any = None) -> Any:
        """The comparable value of ``binding`` in ``resource``; a direct read for a core top-level attribute."""
        if binding.sub_field_name is None and (type(resource) is binding.model or isinstance(resource, binding.model)):
            raw = getattr(resource, binding.field_name, None)
            try:
                return binding.comparable(raw, policy) if raw is not None else None
            except ValueError:
                return None
        return self._comparable_value(resource, binding)

    def _prefix_index(self, name: Any, binding: AttributeBinding, resources: dict[str, Any]) -> list[tuple[str, str]]:
        key = (name, binding)
        if key not in self._prefix_indexes:
            entries = []
            policy = _effective_policy()
            for rid, resource in resources.items():
                value = self._value(resource, binding, policy)
                if isinstance(value, str):
                    entries.append((value, rid))
                    self._prefix_values.setdefault((name, rid), {})[binding] = value
            entries.sort()
            self._prefix_indexes[key] = entries
        return self._prefix_indexes[key]

    # -- keeping the index up to date ------------------------------------------------------------------
    def _store(self, resource: Any, values: dict[str, Any]) -> None:
        super()._store(resource, values)  # removes the old entry first (through _remove)
        key = (resource.meta.resource_type, resource.id)
        for (name, binding), index in self._prefix_indexes.items():
            if name != key[0]:
                continue
            value = self._value(resource, binding)
            if isinstance(value, str):
                insort(index, (value, key[1]))
                self._prefix_values.setdefault(key, {})[binding] = value

    def _remove(self, key: Key) -> None:
        super()._remove(key)
        for binding, value in self._prefix_values.pop(key, {}).items():
            index = self._prefix_indexes.get((key[0], binding))
            if index is None:
                continue
            at = bisect_left(index, (value, key[1]))
            if at < len(index) and index[at] == (value, key[1]):
                del index[at]
