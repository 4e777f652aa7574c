"""Optional parts and their extras: a setting that asks for a part whose package is missing
stops the service at start with the command that installs it, and `lms demo` says which extra
it needs. Each case runs in a real interpreter whose site folder lacks the package (a copy of
this environment's site-packages made of links, without that package)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from lms.config import EXTRAS, missing_extra


def site_without(tmp_path: Path, *modules: str) -> Path:
    """This environment's site-packages as links, less the top-level ``modules``."""
    site = Path(sysconfig.get_paths()["purelib"])
    farm = tmp_path / ("site-without-" + "-".join(modules))
    farm.mkdir()
    for entry in site.iterdir():
        if entry.name.split(".")[0] not in modules:
            (farm / entry.name).symlink_to(entry)
    return farm


def run_without(tmp_path: Path, modules: tuple[str, ...], code: str,
                **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` without ``modules`` installed, on the instance folder under ``tmp_path``."""
    farm = site_without(tmp_path, *modules)
    # -S: no site folder but the one given (whose .pth files, the editable install's among
    # them, site.addsitedir reads).
    script = f"import site, sys; site.addsitedir({str(farm)!r}); {code}"
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("LMS_")}
    environment.update(LMS_INSTANCE_PATH=str(tmp_path / "instance"), **env)
    return subprocess.run([sys.executable, "-S", "-c", script], capture_output=True,
                          text=True, env=environment, check=False, timeout=120)


def test_every_part_is_installed_here():
    assert [part for part in EXTRAS if missing_extra(part)] == []


@pytest.mark.parametrize(("setting", "value", "module", "extra"), [
    ("LMS_SEARCH_BACKEND", "tantivy", "tantivy", "tantivy"),
    ("LMS_DATABASE_URL", "postgresql://lms@127.0.0.1:1/none", "psycopg", "postgres"),
    ("LMS_REDIS_URL", "redis://127.0.0.1:1/0", "redis", "redis"),
    ("LMS_STORAGE", "s3://kho-hoc-lieu", "boto3", "s3"),
])
def test_a_setting_whose_package_is_missing_stops_the_start(tmp_path, setting, value, module,
                                                            extra):
    result = run_without(tmp_path, (module,), (
        "from lms import create_app\n"
        "from lms.config import ConfigurationError\n"
        "try:\n    create_app()\n"
        "except ConfigurationError as error:\n    print(error); sys.exit(3)"),
        **{setting: value})
    assert result.returncode == 3, result.stderr[-2000:]
    assert result.stdout.strip().endswith(
        f"but its package ({module}) is not installed: pip install 'kho-hoc-lieu-so[{extra}]'")


def test_the_core_starts_without_any_extra(tmp_path):
    result = run_without(tmp_path, ("tantivy", "psycopg", "redis", "boto3", "docx", "pptx"),
                         "from lms import create_app; print(create_app().name)")
    assert (result.returncode, result.stdout.strip()) == (0, "lms"), result.stderr[-2000:]


def test_lms_demo_names_the_demo_extra(tmp_path):
    upgrade = "from lms.cli import main; sys.argv = ['lms', 'db', 'upgrade']; main()"
    assert run_without(tmp_path, (), upgrade).returncode == 0
    result = run_without(tmp_path, ("docx", "pptx"),
                         "from lms.cli import main; sys.argv = ['lms', 'demo']; main()")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: lms demo writes its sample documents with python-docx and python-pptx, which "
        "are not installed: pip install 'kho-hoc-lieu-so[demo]'")
