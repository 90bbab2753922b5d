"""Plugin discovery through the ``deepaas.v2.model`` entry-point group (stevedore),
and plugins served from a file (``--plugin``, ``plugin_files.py``).

A plugin that fails to import, or whose argument schemas fail, is logged with its
reason and left out: the others are served.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stevedore import ExtensionManager, NamedExtensionManager

from deepaas_lite import exceptions
from deepaas_lite.compat import aliases
from deepaas_lite.model import plugin_files
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

NAMESPACE = "deepaas.v2.model"


def installed_names() -> list[str]:
    """Names of every installed entry point in the group, loadable or not."""
    eps = importlib.metadata.entry_points(group=NAMESPACE)
    return sorted({ep.name for ep in eps})


def dist_metadata(dist: importlib.metadata.Distribution | None) -> dict[str, Any]:
    """A model description built from the distribution that ships the plugin."""
    if dist is None:
        return {}
    meta: dict[str, Any] = dist.metadata.json
    home = meta.get("home_page")
    if not home:
        for url in meta.get("project_url", []):
            label, _, value = url.partition(",")
            if label.strip().lower() in {"homepage", "home", "source"}:
                home = value.strip()
                break
    out = {
        "name": meta.get("name"),
        "version": meta.get("version"),
        "description": meta.get("summary"),
        "author": meta.get("author") or meta.get("author_email"),
        "license": meta.get("license") or meta.get("license_expression"),
        "url": home,
    }
    return {key: value for key, value in out.items() if value}


def _dist_of(name: str) -> importlib.metadata.Distribution | None:
    """The distribution that ships entry point ``name`` (stevedore's cache drops it)."""
    for ep in importlib.metadata.entry_points(group=NAMESPACE):
        if ep.name == name:
            return ep.dist
    return None


MARSHMALLOW_3 = "marshmallow>=3.20,<4"

_KEYWORD = re.compile(r"__init__\(\) got an unexpected keyword argument '(\w+)'")


def why(exc: BaseException) -> str:
    """Why a plugin failed to load, with what to do when deepaas-lite can tell.

    DEEPaaS-era plugins pass field metadata as keywords (``description="..."``,
    ``missing=...``), which marshmallow 4 rejects with a ``TypeError``.
    """
    match = _KEYWORD.search(str(exc)) if isinstance(exc, TypeError) else None
    installed = importlib.metadata.version("marshmallow")
    if match is not None and int(installed.split(".")[0]) >= 4:
        return (
            f"{exc!r}: this plugin uses marshmallow 3 keyword metadata "
            f"('{match.group(1)}=...'), which marshmallow {installed} rejects; "
            f"install '{MARSHMALLOW_3}' (see docs/migration.md)"
        )
    if isinstance(exc, OSError) and isinstance(exc.filename, str):
        # repr() leaves the file out; a relative one is named as it was looked for.
        named = f"{exc!r}: '{Path(exc.filename).absolute()}'"
        if isinstance(exc, FileNotFoundError):
            return (
                f"{named}; a plugin that reads files of its source tree must be installed "
                "from it with 'pip install --no-deps -e <its source tree>' "
                "(see docs/migration.md)"
            )
        return named
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("deepaas."):
        return (
            f"{exc!r}: deepaas-lite provides only deepaas.model.v2.base and "
            "deepaas.model.v2.wrapper to plugins"
        )
    return repr(exc)


def _instantiate(target: Any) -> Any:
    """Classes are instantiated once, with no arguments; modules and objects as they are."""
    return target() if isinstance(target, type) else target


def _manager(names: list[str] | None) -> ExtensionManager[Any]:
    failures: list[str] = []

    def on_failure(manager: Any, entrypoint: Any, exc: BaseException) -> None:
        LOG.error("Model '%s' failed to load: %s; it is left out", entrypoint.name, why(exc))
        failures.append(entrypoint.name)

    if names is None:
        return ExtensionManager(
            NAMESPACE, invoke_on_load=False, on_load_failure_callback=on_failure
        )
    return NamedExtensionManager(
        NAMESPACE,
        names=names,
        invoke_on_load=False,
        on_load_failure_callback=on_failure,
        name_order=True,
    )


def _wrap(extension: Any) -> ModelWrapper:
    try:
        plugin = _instantiate(extension.plugin)
        return ModelWrapper(extension.name, plugin, dist_metadata(_dist_of(extension.name)))
    except Exception as exc:
        raise exceptions.ModelLoadError(
            f"Model '{extension.name}' failed to load: {why(exc)}"
        ) from exc


def _wrap_file(plugin: plugin_files.PluginFile) -> ModelWrapper:
    try:
        return ModelWrapper(plugin.id, _instantiate(plugin.load()), plugin.description())
    except exceptions.ModelLoadError:
        raise
    except Exception as exc:
        raise exceptions.ModelLoadError(
            f"Model '{plugin.id}' ({plugin.spec}) failed to load: {why(exc)}"
        ) from exc


def load_models(names: Iterable[str] | None = None) -> dict[str, ModelWrapper]:
    """Load the named plugins, leaving out broken ones.

    Default: the plugin files this process was told about (``plugin_files.exported``),
    else every installed plugin. A name is a plugin file's id or an entry point's name
    (a file wins). Raises ``UnknownModelNames`` when a requested name is neither.
    Plugins importing ``deepaas.model.v2.*`` get deepaas-lite's modules
    (``compat.aliases``).
    """
    aliases.install()
    files = plugin_files.exported()
    wanted = sorted(set(names)) if names else (sorted(files) if files else None)
    from_files = [name for name in wanted or () if name in files]
    from_entry_points = None if wanted is None else [n for n in wanted if n not in files]
    if from_entry_points:
        installed = installed_names()
        unknown = [name for name in from_entry_points if name not in installed]
        if unknown:
            raise exceptions.UnknownModelNames(
                f"Unknown model name(s): {', '.join(unknown)}; "
                f"installed: {', '.join(installed) or 'none'}"
            )
    models: dict[str, ModelWrapper] = {}
    for name in from_files:
        try:
            models[name] = _wrap_file(files[name])
        except exceptions.ModelLoadError as exc:
            LOG.error("%s; it is left out", exc.message)
    if from_entry_points is None or from_entry_points:
        for extension in _manager(from_entry_points):
            try:
                models[extension.name] = _wrap(extension)
            except exceptions.ModelLoadError as exc:
                LOG.error("%s; it is left out", exc.message)
    if wanted is None:
        return models
    return {name: models[name] for name in wanted if name in models}


def load_model(name: str) -> ModelWrapper:
    """Load one plugin (in a training or predict worker process)."""
    models = load_models([name])
    if name not in models:
        raise exceptions.ModelLoadError(f"Model '{name}' failed to load")
    return models[name]
