"""The explicit registry of sources: slug -> module.

Each module exposes SPEC (a SourceSpec), fetch(session, spec) -> list[Document]
(the only code that touches the network) and parse(document) -> records (pure).
Adding a platform means one module, its fixtures and one line here.
"""

from __future__ import annotations

from types import ModuleType

from . import google
from . import linkedin
from . import x_global_report
from . import tiktok
from . import github_takedowns
from . import github_notices
from . import twitter_removals
from . import facebook_government_report
from . import apple
from . import wikimedia
from . import dsa_orders

SOURCES: dict[str, ModuleType] = {
    "google": google,
    "linkedin": linkedin,
    "x-global-report": x_global_report,
    "tiktok": tiktok,
    "github-takedowns": github_takedowns,
    "github-notices": github_notices,
    "twitter-removals": twitter_removals,
    "facebook-government-report": facebook_government_report,
    "apple": apple,
    "wikimedia": wikimedia,
    "dsa-orders": dsa_orders,
}


def get(slug: str) -> ModuleType:
    try:
        return SOURCES[slug]
    except KeyError:
        raise KeyError(f"unknown source {slug!r}; known: {', '.join(sorted(SOURCES))}") from None
