"""metadata/ must stay a pure library: no lms, Flask or SQLAlchemy."""

import ast
import subprocess
import sys
from pathlib import Path

import metadata

PACKAGE = Path(metadata.__file__).parent
FORBIDDEN = ("lms", "flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "jinja2")


def test_no_forbidden_imports_in_source():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0].lower() not in FORBIDDEN, f"{path}: imports {name}"


def test_importing_metadata_loads_no_web_framework():
    code = ("import sys, metadata, metadata.crosswalks; metadata.default_profile(); "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent).stdout
    loaded = set(eval(out))  # noqa: S307 -- our own repr of a list of str
    assert not loaded & set(FORBIDDEN)
