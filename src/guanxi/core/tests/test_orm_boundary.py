"""Only queries and services touch ``Model.objects``: nobody has to remember to restrict.

Reads go through ``<app>/queries.py`` and writes through ``<app>/services.py`` (or packages of
those names), both starting from the access policy. Model managers may also appear where
data is defined or seeded (models, migrations, the shipped roles, demo data) and in tests.
The scan reads the syntax tree, so comments and strings do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # src/guanxi
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# core/audit.py is the one audit writer every service calls inside its transaction;
# analytics/jobs.py holds the analytics aggregation SQL (STYLE.md section 6).
ALLOWED_FILES = {"queries.py", "services.py", "models.py", "roles.py", "reference.py", "demo.py",
                 "conftest.py", "testing.py", "audit.py", "jobs.py"}
ALLOWED_DIRS = {"queries", "services", "migrations", "tests"}


def manager_uses(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted({(node.lineno, ast.unparse(node)) for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and node.attr in MANAGERS})


def allowed(relative: Path) -> bool:
    return (relative.name in ALLOWED_FILES or relative.name.startswith("demo")
            or bool(set(relative.parts[:-1]) & ALLOWED_DIRS))


def offenders() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if allowed(relative):
            continue
        out += [f"{relative}:{line}: {code}" for line, code in manager_uses(path)]
    return out


def test_only_queries_and_services_touch_model_managers():
    found = offenders()
    assert not found, (
        "Model managers used outside queries and services; read through <app>/queries.py, "
        "write through <app>/services.py:\n" + "\n".join(found))


def test_the_scan_sees_what_it_must(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text(
        "from x import Customer\n"
        "# Customer.objects in a comment does not count\n"
        "doc = 'nor Customer.objects in a string'\n"
        "def f():\n"
        "    return Customer.objects.filter(pk=1), Customer._default_manager.all()\n",
        encoding="utf-8")
    assert manager_uses(sample) == [(5, "Customer._default_manager"), (5, "Customer.objects")]
    assert not allowed(Path("customers/views.py"))
    assert not allowed(Path("core/management/commands/guanxi_token.py"))
    assert allowed(Path("customers/queries.py"))
    assert allowed(Path("sales/services/common.py"))
    assert allowed(Path("customers/migrations/0002_search_indexes.py"))
    assert allowed(Path("customers/tests/test_views.py"))


def test_the_scan_reads_the_whole_package():
    files = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    assert {"core/access.py", "customers/views.py", "customers/api.py"} <= files
    assert manager_uses(PACKAGE / "customers" / "queries.py")
