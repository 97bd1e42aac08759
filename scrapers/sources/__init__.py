"""The explicit registry of sources: slug -> module.

Each module exposes SPEC (a SourceSpec), fetch(session, spec) -> list[Document]
(the only code that touches the network) and parse(document) -> records (pure).
Adding a platform means one module, its fixtures and one line here.
"""

from __future__ import annotations

from types import ModuleType

from . import google

SOURCES: dict[str, ModuleType] = {
    "google": google,
}


def get(slug: str) -> ModuleType:
    try:
        return SOURCES[slug]
    except KeyError:
        raise KeyError(f"unknown source {slug!r}; known: {', '.join(sorted(SOURCES))}") from None
