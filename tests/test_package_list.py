"""pyproject.toml lists every package directory, so a wheel (not only the editable install the
tests run from) holds every module: a subpackage left out installs without its files."""
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_package_directory_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    found = set()
    for name, folder in cfg["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "__pycache__" not in rel.parts:
                found.add(".".join((name,) + rel.parts))
    assert not found - listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
