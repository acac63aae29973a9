"""The centre's model store: converted, pinned detection models it serves to boards.

``coordinator models build`` fills the folder (npm pack → verify → extract → convert →
verify, by :mod:`modelkit.build`); the store names a model to boards only when the file
on disk has the SHA-256 pinned for its kind, so a file damaged or swapped on the centre's
disk is never offered. Boards download it through the enrolment API (a request signed
with the board's key) and check the same hash before they swap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from modelkit.build import NPM_MODELS, BuildError, build, sha256_file
from protocol import ModelRef

from ..errors import NotFound, Unavailable

#: Where boards download a model (the enrolment API's board-facing route + file name).
MODEL_URL_PREFIX = "/api/enrolment/models/"
#: What ``coordinator models build`` makes by default: the default detector and the light one.
BUILD_DEFAULT = ("nanodet", "ssd_oid")


class ModelNotServed(NotFound):
    """No pinned, intact model of that name in the centre's store."""


class ModelBuildFailed(Unavailable):
    """The build could not pack, verify or convert a model."""


class ModelStore:
    """A folder of pinned model files; hashes are cached per (size, mtime)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._seen: dict[str, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def _intact(self, name: str, pinned: str) -> int | None:
        """The size of ``name`` when its SHA-256 is ``pinned``, else None."""
        path = self.directory / name
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._seen.get(name)
        if cached is None or cached[:2] != key:
            digest = sha256_file(path)
            with self._lock:
                self._seen[name] = (*key, digest)
        else:
            digest = cached[2]
        return st.st_size if digest == pinned else None

    def refs(self) -> dict[str, ModelRef]:
        """Every servable model by detector kind."""
        out = {}
        for kind, spec in NPM_MODELS.items():
            size = self._intact(spec.name, spec.sha256)
            if size is not None:
                out[kind] = ModelRef(
                    name=spec.name,
                    kind=kind,
                    sha256=spec.sha256,
                    size=size,
                    url=MODEL_URL_PREFIX + spec.name,
                )
        return out

    def ref(self, kind: str | None) -> ModelRef | None:
        """The servable model of a detector kind, if the store has one."""
        return self.refs().get(kind or "")

    def file(self, name: str) -> Path:
        """The file to send for ``name`` (checked against its pin), or ModelNotServed."""
        for spec in NPM_MODELS.values():
            if spec.name == name and self._intact(name, spec.sha256) is not None:
                return self.directory / name
        raise ModelNotServed(f"the centre serves no model named {name!r}")

    def build(
        self,
        kinds: Iterable[str] = BUILD_DEFAULT,
        *,
        force: bool = False,
        tarballs: dict[str, Path] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> list[ModelRef]:
        """Build (or re-verify) the models of ``kinds`` into the store; returns their refs."""
        kinds = list(kinds)
        unknown = sorted(set(kinds) - set(NPM_MODELS))
        if unknown:
            raise ModelNotServed(f"no pinned model for {unknown}: choose from {sorted(NPM_MODELS)}")
        for kind in kinds:
            try:
                build(
                    NPM_MODELS[kind],
                    self.directory,
                    force=force,
                    tarball=(tarballs or {}).get(kind),
                    log=log,
                )
            except BuildError as exc:
                raise ModelBuildFailed(str(exc)) from None
        refs = self.refs()
        return [refs[k] for k in kinds]
