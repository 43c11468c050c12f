"""The installed package carries what it needs at run time (schemas, catalogue) and never reads the repo.

An editable install hides a missing data file, so this builds a real wheel and runs from it.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (found,) = out.glob("scim_conformance-*.whl")
    return found


def test_wheel_carries_schemas_catalogue_and_entry_points(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json"))
    assert schemas and all(f"conformance/schemas/{n}" in names for n in schemas)
    assert "conformance/data/requirements.tsv" in names
    profiles = sorted(p.name for p in (ROOT / "profiles").glob("*.toml"))
    assert "rfc.toml" in profiles and all(f"conformance/profiledata/{n}" in names for n in profiles)
    meta = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "scim-conformance = conformance.cli:main" in text and "conformance.plugin" in text


def test_installed_package_loads_its_data_outside_the_repo(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    code = (
        "import conformance, pathlib; from conformance import jsonschemas, catalog;"
        f"assert str(pathlib.Path(conformance.__file__)).startswith(r'{target}');"
        "assert all(jsonschemas.load(n) for n in ('user', 'report'));"
        "assert len(catalog.requirements()) == 357;"
        f"from conformance import profiles; assert str(profiles.profile_dir()).startswith(r'{target}');"
        "assert {'rfc', 'lenient', 'entra', 'okta', 'github-org'} <= set(profiles.available()); print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)},
                          capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
