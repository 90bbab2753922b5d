"""``deepaas.model.v2.*`` resolve to deepaas-lite's modules, real DEEPaaS installed or not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deepaas_lite.compat import aliases
from deepaas_lite.model import loading
from deepaas_lite.model.uploads import UploadedFile


def test_plugin_names_are_deepaas_lite_objects() -> None:
    loading.load_models(["deepaas-class"])
    from deepaas.model.v2 import base
    from deepaas.model.v2.wrapper import UploadedFile as PluginUploadedFile

    from deepaas_lite.compat.deepaas.model.v2.base import BaseModel

    assert PluginUploadedFile is UploadedFile
    assert base.BaseModel is BaseModel
    assert aliases.installed()


def test_base_model_is_abstract_as_in_deepaas() -> None:
    aliases.install()
    from deepaas.model.v2 import base

    class Half(base.BaseModel):
        def predict(self, **kwargs: object) -> None: ...

    with pytest.raises(TypeError, match="abstract"):
        Half()  # type: ignore[abstract]


def _fake_deepaas(root: Path) -> None:
    """A stand-in for the real DEEPaaS distribution: its own UploadedFile class."""
    package = root / "deepaas" / "model" / "v2"
    package.mkdir(parents=True)
    for directory in (root / "deepaas", root / "deepaas" / "model", package):
        (directory / "__init__.py").write_text("REAL = True\n")
    (package / "wrapper.py").write_text(
        "import collections\n"
        "UploadedFile = collections.namedtuple('UploadedFile', 'name filename')\n"
    )
    (root / "deepaas" / "api.py").write_text("REAL_API = True\n")


def test_ours_win_over_an_installed_deepaas(tmp_path: Path) -> None:
    """In a fresh interpreter where the real package is importable and imported first."""
    _fake_deepaas(tmp_path)
    script = textwrap.dedent(
        """
        import deepaas.model.v2.wrapper as real
        assert real.UploadedFile.__module__ == "deepaas.model.v2.wrapper"
        from deepaas_lite.model import loading
        models = loading.load_models(["deepaas-class"])
        from deepaas.model.v2.wrapper import UploadedFile
        from deepaas_lite.model.uploads import UploadedFile as Ours
        assert UploadedFile is Ours, UploadedFile
        import deepaas_lite_test_plugins.deepaas_class as plugin
        assert plugin.UploadedFile is Ours
        try:
            import deepaas.api
        except ModuleNotFoundError:
            print("no deepaas.api")
        print("ok", sorted(models))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["no deepaas.api", "ok ['deepaas-class']"]


def test_other_deepaas_modules_are_named_in_the_log() -> None:
    err = ModuleNotFoundError("No module named 'deepaas.config'", name="deepaas.config")
    assert "provides only deepaas.model.v2.base and deepaas.model.v2.wrapper" in loading.why(err)
