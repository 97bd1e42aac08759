"""GitHub: the government takedown notices themselves (github/gov-takedowns).

GitHub posts each complete government takedown notice it acts on under local
law, "unchanged (other than redactions of personal information)", as
`<Country>/<Year>/<date>-<requester>.md` (sometimes one folder deeper, beside a
PDF scan). fetch() lists the repository tree through the GitHub API and reads
every notice from raw.githubusercontent.com; parse() turns one notice into one
`Notice`. Counts are not derived here: they come from github-takedowns.

Notice text is untrusted input. It is kept exactly as published (decoded, line
endings made \\n) and must only ever be shown as plain text.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from datetime import date

from ..formats import decode_text
from ..models import Document, Notice, ParseError, SourceSpec, Warning
from ..normalize import country_code

REPO = "github/gov-takedowns"
BRANCH = "master"
LISTING_URL = f"https://api.github.com/repos/{REPO}/git/trees/{BRANCH}?recursive=1"
RAW_BASE = f"https://raw.githubusercontent.com/{REPO}/{BRANCH}/"
PAGE_BASE = f"https://github.com/{REPO}/blob/{BRANCH}/"

SPEC = SourceSpec(
    slug="github-notices",
    platform="GitHub",
    title="GitHub government takedown notices (github/gov-takedowns)",
    urls=(LISTING_URL,),
    cadence="per notice",
    homepage=f"https://github.com/{REPO}",
    expect="json",
    datasets={"notices": "Each government takedown notice GitHub posted: country, date, requesting agency, URLs, full text"},
    notes=(
        "Only notices GitHub acted on under local law are posted; requests it handled as Terms of Service "
        "violations mostly are not (see github-takedowns for counts). Country is the repository folder; the "
        "date and requester come from the file name; URLs are the addresses named in the text, as written "
        "(defanged ones stay defanged), without boilerplate (Roskomnadzor's register site and app links, "
        "GitHub's policy pages). PDF scans beside some notices are not read. Notice text is "
        "untrusted and shown as plain text only."
    ),
)

# Files in the repository that are not notices, and say nothing about them.
_REPO_FILES = {"README.md", "CODE_OF_CONDUCT.md", "CONTRIBUTING.md", "LICENSE", "LICENSE.md", "SECURITY.md"}

# <Country>/<Year>/[<folder>/]<file>.md
_NOTICE_PATH = re.compile(r"^(?P<country>[^/]+)/(?P<year>\d{4})/(?:[^/]+/)?(?P<file>[^/]+)\.md$")
# <date>-<requester>[-<n>]
_FILE_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<label>.+?)(?:-(?P<n>\d+))?$")

ROSKOMNADZOR = "Roskomnadzor"
# The requester label in the file name, folded (case, punctuation) -> agency.
_AGENCIES = {
    "mps": "Ministry of Public Security of China (Cyber Security Department)",
    "bnia": "Beijing Network Industry Association",
    "cstcb": "Cyber Security and Technology Crime Bureau, Hong Kong Police Force",
    "guardiacivil": "Guardia Civil",
    "singcert": "SingCERT (Singapore Computer Emergency Response Team)",
}
# Roskomnadzor is spelled many ways in file names: roskomnadzor, Rozkomnadzor,
# Roskomnnadzor, roscomnadzor...
_ROSKOMNADZOR = re.compile(r"^ro[sz]{1,2}[kc]om{1,2}n{1,2}adzor$")
# Some file names name the content, not the requester (2015-07-22-fast-die,
# 2016-06-08-programthink-zhao); the notice's own signature then says who sent it.
_SIGNATURES = (
    ("Federal Service for Supervision in the Sphere of Telecom", ROSKOMNADZOR),
    ("ROSKOMNADZOR", ROSKOMNADZOR),
    ("Cyber Security Association of China", "Cyber Security Association of China"),
)

# URLs as written, including defanged ones (https[:]//github[.]com/...).
_URL = re.compile(r"h(?:tt|xx)ps?(?:\[:\]|:)//(?:[^\s<>\"'()\[\]]|\[\.\])+", re.I)
_TRAILING = ".,;:!?*_`'\""
# Addresses that are boilerplate, not content named for removal: Roskomnadzor's
# register and law texts (eais.rkn.gov.ru) and its app-store adverts, and
# GitHub's own policy pages quoted in notices or in GitHub's preface to them.
_BOILERPLATE_HOSTS = ("eais.rkn.gov.ru", "apps.apple.com", "play.google.com", "docs.github.com", "help.github.com")


def raw_url(path: str) -> str:
    return RAW_BASE + "/".join(urllib.parse.quote(part, safe="") for part in path.split("/"))


def page_url(path: str) -> str:
    return PAGE_BASE + "/".join(urllib.parse.quote(part, safe="") for part in path.split("/"))


# --------------------------------------------------------------------------
# The listing
# --------------------------------------------------------------------------


def _tree(document: Document) -> dict:
    try:
        listing = json.loads(document.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        raise ParseError(f"{document.url}: not JSON ({exc}); expected the GitHub API tree listing") from exc
    if not isinstance(listing, dict) or not isinstance(listing.get("tree"), list):
        raise ParseError(f"{document.url}: no 'tree' list; expected the GitHub API tree listing (git/trees?recursive=1)")
    for entry in listing["tree"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or "type" not in entry:
            raise ParseError(f"{document.url}: a tree entry lacks 'path' or 'type': {str(entry)[:200]!r}")
    return listing


def notice_paths(document: Document) -> list[str]:
    """Repository paths of the notices in a tree listing, in listing order.

    A listing is fetched data: a path with "." or ".." segments could point a
    fetch outside the repository, so such a listing is refused whole."""
    paths = [e["path"] for e in _tree(document)["tree"] if e["type"] == "blob" and _NOTICE_PATH.match(e["path"])]
    climbing = [p for p in paths if {".", ".."} & set(p.split("/"))]
    if climbing:
        raise ParseError(f"{document.url}: listing has paths that leave the repository: {climbing[:3]!r}")
    return paths


def _listing_warnings(document: Document) -> Iterator[Warning]:
    listing = _tree(document)
    if listing.get("truncated"):
        yield Warning("listing_truncated", "GitHub truncated the tree listing: some notices may be missing", document.name)
    for entry in listing["tree"]:
        path = entry["path"]
        if entry["type"] != "blob" or _NOTICE_PATH.match(path) or path in _REPO_FILES:
            continue
        parts = path.split("/")
        if path.lower().endswith(".pdf") and len(parts) >= 3 and parts[1].isdigit():
            continue  # a scan beside a notice
        yield Warning("not_a_notice", f"repository file {path!r} is not read as a notice", document.name)


def fetch(session, spec: SourceSpec = SPEC) -> list[Document]:
    listing = session.get(spec.urls[0], expect="json")
    return [listing] + [session.get(raw_url(path), expect="markdown") for path in notice_paths(listing)]


# --------------------------------------------------------------------------
# One notice
# --------------------------------------------------------------------------


def parse(document: Document) -> Iterator[Notice | Warning]:
    if document.url.startswith(RAW_BASE):
        yield from _parse_notice(document)
    elif document.url.split("?", 1)[0] == LISTING_URL.split("?", 1)[0]:
        yield from _listing_warnings(document)
    else:
        raise ParseError(f"{document.url}: neither the tree listing ({LISTING_URL}) nor a notice under {RAW_BASE}")


def agency_for(label: str, text: str = "") -> str | None:
    """The requesting agency for a file-name label (or, failing that, the notice's signature)."""
    key = re.sub(r"[^a-z]", "", label.casefold())
    if _ROSKOMNADZOR.match(key):
        return ROSKOMNADZOR
    if key in _AGENCIES:
        return _AGENCIES[key]
    for signature, agency in _SIGNATURES:
        if signature in text:
            return agency
    return None


def notice_urls(text: str) -> tuple[str, ...]:
    """The addresses a notice names, as written (defanged ones stay defanged), in order, once each;
    boilerplate addresses (the authority's own sites, GitHub's policy pages) left out."""
    urls: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        plain = url.replace("[.]", ".").replace("[:]", ":")
        try:
            host = (urllib.parse.urlsplit(plain).hostname or "").lower()
        except ValueError:  # e.g. a malformed [IPv6] part: keep it, it is what the notice says
            host = ""
        if host not in _BOILERPLATE_HOSTS and url not in urls:
            urls.append(url)
    return tuple(urls)


def _parse_notice(document: Document) -> Iterator[Notice | Warning]:
    path = urllib.parse.unquote(document.url[len(RAW_BASE):].split("?", 1)[0])
    m = _NOTICE_PATH.match(path)
    if not m:
        raise ParseError(f"{document.url}: {path!r} is not a notice path (<Country>/<Year>/<date>-<requester>.md)")
    text = decode_text(document.body, document.url)
    country = m["country"]
    f = _FILE_NAME.match(m["file"])
    notice_date: date | None = None
    label = m["file"]
    number = None
    if f:
        label, number = f["label"], f["n"]
        try:
            notice_date = date.fromisoformat(f["date"])
        except ValueError:
            yield Warning("bad_date", f"{path}: file name date {f['date']!r} is not a date", path)
    else:
        yield Warning("bad_file_name", f"{path}: file name is not <date>-<requester>.md; no date taken", path)
    if notice_date and str(notice_date.year) != m["year"]:
        yield Warning("date_mismatch", f"{path}: dated {notice_date} but filed under {m['year']}", path)
    agency = agency_for(label, text)
    if agency is None:
        agency = label
        yield Warning("unknown_agency", f"{path}: requester {label!r} is not a known agency; kept as written", path)
    code = country_code(country)
    if code is None:
        yield Warning("unknown_country", f"{path}: folder {country!r} is not a known country", path)
    yield Notice(
        notice_id=path,
        platform=SPEC.platform,
        country_name=country,
        country_code=code,
        notice_date=notice_date,
        agency=agency,
        agency_as_published=label,
        title=_title(text) or _default_title(agency, notice_date, number),
        urls=notice_urls(text),
        text=text,
        source_url=page_url(path),
        member=path,
    )


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _title(text: str) -> str:
    m = _HEADING.search(text)
    return m[1].strip() if m else ""


def _default_title(agency: str, notice_date: date | None, number: str | None) -> str:
    # No posted notice has a heading: name it by who sent it and when.
    when = notice_date.isoformat() if notice_date else "undated"
    return f"{agency} notice of {when}" + (f" (no. {number})" if number else "")
