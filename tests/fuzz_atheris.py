"""Coverage-guided fuzzing of one source's parser with atheris (optional; not run by pytest).

    pip install atheris
    python -m tests.fuzz_atheris SEED [libFuzzer options, e.g. -max_total_time=60]

SEED is one of tests/test_fuzz.py's SEEDS (google-latest, tiktok, linkedin...):
the real input it starts from. The property is the one test_fuzz.py checks:
parse() and the pipeline's checks either succeed or raise TakedownsError;
anything else is a crash, and libFuzzer writes the input to crash-<hash>.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["scrapers"]):
    import scrapers.formats  # noqa: F401 - instrumented before the sources import it
    import scrapers.normalize  # noqa: F401
    import scrapers.sources  # noqa: F401
    import scrapers.validate  # noqa: F401

from scrapers.models import Document, TakedownsError  # noqa: E402
from tests.test_fuzz import SEEDS, load_seed, parse_like_the_pipeline  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in SEEDS:
        sys.exit(f"usage: python -m tests.fuzz_atheris SEED [libFuzzer options]; SEED is one of {', '.join(sorted(SEEDS))}")
    seed = load_seed(sys.argv[1])
    corpus = Path(tempfile.mkdtemp(prefix=f"atheris-{sys.argv[1]}-"))
    (corpus / "real").write_bytes(seed.body)
    fetched = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def one_input(data: bytes) -> None:
        try:
            parse_like_the_pipeline(seed.slug, Document(url=seed.url, body=data, fetched_at=fetched))
        except TakedownsError:
            pass  # the documented failure

    atheris.Setup([sys.argv[0], str(corpus), f"-max_len={max(len(seed.body) * 2, 4096)}", *sys.argv[2:]], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
