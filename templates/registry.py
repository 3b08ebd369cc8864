"""Where a document template lives: one resolver for every lookup (manifest, rendering, articles).

A plain id (``[a-z0-9_-]+``) names a template shipped in the package or one in a tenant's own
folder (``templates_dir``), registered at start; anything else is read as the path of a
template folder (a ``manifest.toml`` and its Typst document). Ids are unique across the
installation, because a contract stores only the id: a tenant folder may not reuse a packaged
id, and two folders may not hold the same id.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from templates.errors import TemplateError

__all__ = [
    "ID_PATTERN",
    "PACKAGED_DIR",
    "check_folder",
    "folder_templates",
    "is_id",
    "packaged_ids",
    "register_folder",
    "registered_folders",
    "resolve",
]

PACKAGED_DIR = Path(__file__).parent / "documents"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Template id → its folder, for templates in tenants' own folders (this process only).
_registered: dict[str, Path] = {}
_folders: list[Path] = []


def is_id(ref: str) -> bool:
    """True when ref is an id (not a path)."""
    return ID_PATTERN.fullmatch(ref) is not None


def packaged_ids() -> list[str]:
    """Ids of the templates shipped in the package, sorted."""
    return sorted(p.parent.name for p in PACKAGED_DIR.glob("*/manifest.toml"))


def check_folder(folder: Path) -> None:
    """A template folder holds only its own files and folders: no symbolic link, no device
    or pipe, and it is no link itself.

    Its Typst document is code, compiled with a copy of the folder as its root so that it can
    read nothing else; a link would be copied as the file it points to (another tenant's
    template or keys, the service's configuration) and could be printed into a contract, and
    a pipe would hang the copy. A packaged template is the package's own and is not walked.
    """
    if folder.is_symlink():
        raise TemplateError(
            f"The template folder {folder} is a symbolic link; a template folder must be a "
            f"folder of its own."
        )
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(top) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise TemplateError(
                    f"The template folder {folder} holds a symbolic link ({path}); a template "
                    f"may hold only its own files."
                )
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise TemplateError(
                    f"The template folder {folder} holds {path}, which is not a plain file."
                )


def folder_templates(folder: Path) -> dict[str, Path]:
    """Template id → folder, for each template folder directly inside `folder` (each checked:
    check_folder)."""
    if not folder.is_dir():
        raise TemplateError(f"The templates folder {folder} does not exist.")
    found = {}
    for p in sorted(folder.glob("*/manifest.toml")):
        if is_id(p.parent.name):
            check_folder(p.parent)
            found[p.parent.name] = p.parent.resolve()
    return found


def register_folder(folder: Path) -> list[str]:
    """Make the templates in a tenant's folder known by id in this process; their ids."""
    found = folder_templates(folder)
    packaged = set(packaged_ids())
    for tid, path in found.items():
        if tid in packaged:
            raise TemplateError(
                f"The template '{tid}' in {folder} has the id of a packaged template; "
                f"rename its folder."
            )
        known = _registered.get(tid)
        if known is not None and known != path:
            raise TemplateError(
                f"The template id '{tid}' is in both {known.parent} and {folder}; ids must be "
                f"unique across the installation."
            )
    _registered.update(found)
    resolved = folder.resolve()
    if resolved not in _folders:
        _folders.append(resolved)
    return sorted(found)


def registered_folders() -> list[Path]:
    """The tenant folders registered in this process (to tell worker processes)."""
    return list(_folders)


def resolve(ref: str) -> Path:
    """The folder of a template given by id or by path; TemplateError when there is none."""
    if is_id(ref):
        packaged = PACKAGED_DIR / ref
        if (packaged / "manifest.toml").is_file():
            return packaged
        if ref in _registered:
            check_folder(_registered[ref])
            return _registered[ref]
        known = ", ".join(packaged_ids() + sorted(_registered))
        raise TemplateError(f"Unknown document template '{ref}'; known templates: {known}.")
    path = Path(ref).expanduser()
    if not (path / "manifest.toml").is_file():
        raise TemplateError(
            f"There is no template folder at {ref} (a folder with a manifest.toml)."
        )
    check_folder(path)
    return path.resolve()
