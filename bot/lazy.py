"""A package's names imported from their submodules when first used (PEP 562), for __init__."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(
    package: str, namespace: dict[str, Any], modules: Mapping[str, str]
) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`: `modules` maps each name to the submodule that
    defines it; a name once imported is kept in `namespace` (the package's `globals()`), so
    Python finds it there next time."""

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return __getattr__
