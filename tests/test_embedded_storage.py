"""The embedded target's prefix index answers exactly what scim2-server's plain storage answers."""

from __future__ import annotations

import random

import pytest
from scim2_models import Name, ScimFilter, SearchRequest, User
from scim2_server.memory import InMemoryStorage
from scim2_server.utils import load_default_resource_types

from conformance.embedded_storage import PrefixIndexedStorage

USER_RT = load_default_resource_types()["User"]
FILTERS = [
    'userName sw "ab"', 'userName sw "AB"', 'userName sw "abc-1"', 'userName sw "zz"', 'userName sw ""',
    '(name.familyName eq "Archer" or title pr) and userName sw "ab"',
    'userName sw "ab" and not (active eq true)', 'userName sw "a" or title pr', 'not (userName sw "ab")',
    'title sw "t" and userName sw "b"', 'name.familyName sw "arch" and userName sw "abc"',
    'userName eq "AB3" or userName eq "abc-7" or userName sw "zz1"', 'userName eq "ab1" and title pr',
    '(userName sw "a" or title eq "T1") and active eq true', 'userName sw "ab" or title pr',
    'name.familyName eq "ARCHER" and userName sw "a"', 'title eq "x" and not (userName sw "b")',
]


def _search(storage, text: str) -> list[str]:
    page = storage.search([USER_RT], SearchRequest(filter=ScimFilter[User](text), count=100000))
    return sorted(r.id for r in page.resources)  # the ids differ between storages, so does their order


def _user(rng: random.Random, i: int) -> User:
    prefix = rng.choice(["ab", "AB", "abc-", "Abc-", "b", "zz", "a"])
    return User(user_name=f"{prefix}{i}", title=rng.choice([None, "t1", "x"]), active=rng.choice([True, False]),
                name=Name(family_name=rng.choice(["Archer", "archer", "Baker"])))


@pytest.mark.parametrize("seed", [1, 2])
def test_same_answers_as_the_plain_storage_through_writes(seed):
    rng = random.Random(seed)
    plain, indexed = InMemoryStorage(), PrefixIndexedStorage()
    ids: dict[str, str] = {}  # plain id -> indexed id
    for i in range(150):
        user = _user(rng, i)
        ids[plain.create(USER_RT, user).id] = indexed.create(USER_RT, user).id
    for text in FILTERS:  # builds the indexes
        assert sorted(ids[p] for p in _search(plain, text)) == _search(indexed, text), text
    for step in range(120):  # writes after the index exists keep it exact
        pid = rng.choice(list(ids))
        if step % 3 == 0:
            plain.delete(USER_RT, pid)
            indexed.delete(USER_RT, ids.pop(pid))
        else:
            renamed = _user(rng, 1000 + step)
            a, b = plain.get(USER_RT, pid), indexed.get(USER_RT, ids[pid])
            a.user_name = b.user_name = renamed.user_name
            a.title = b.title = renamed.title
            plain.update(USER_RT, a)
            indexed.update(USER_RT, b)
        if step % 10 == 0:
            text = rng.choice(FILTERS)
            got = _search(indexed, text)
            assert sorted(ids[p] for p in _search(plain, text)) == got, text
    for text in FILTERS:
        assert sorted(ids[p] for p in _search(plain, text)) == _search(indexed, text), text


def test_resources_setter_rebuilds_the_index():
    storage = PrefixIndexedStorage()
    first = storage.create(USER_RT, User(user_name="ab1"))
    assert _search(storage, 'userName sw "ab"') == [first.id]
    second = storage.create(USER_RT, User(user_name="ab2"))
    storage.resources = [second]
    assert _search(storage, 'userName sw "ab"') == [second.id]


@pytest.mark.parametrize(("start", "count"), [(1, 1), (1, 10), (5, 3), (48, 10), (60, 5), (1, 0), (None, 7)])
def test_unfiltered_pages_are_scim2_servers_own(start, count):
    storage = PrefixIndexedStorage()
    rng = random.Random(3)
    for i in range(50):
        storage.create(USER_RT, _user(rng, i))
    request = SearchRequest(start_index=start, count=count)
    fast = storage.search([USER_RT], request)
    plain = InMemoryStorage.search(storage, [USER_RT], request)  # scim2-server's walk and sort, same resources
    assert fast.total == plain.total == 50
    assert [r.id for r in fast.resources] == [r.id for r in plain.resources]
    assert len(fast.resources) == min(count, max(0, 50 - (start or 1) + 1))
