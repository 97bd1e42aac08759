"""GitHub government takedown notices (github/gov-takedowns): discovery from the
tree listing and one Notice per markdown file."""

from __future__ import annotations

import collections
import json
from datetime import date, datetime, timezone

import pytest

from scrapers.models import Document, FetchError, Notice, ParseError, Warning
from scrapers.sources import github_notices as gn
from tests.conftest import FIXTURES, mirror_document, shared_path

FIX = FIXTURES / "github-notices"
FETCHED = datetime(2026, 1, 1, tzinfo=timezone.utc)
NOTICES_DIR = ("mirror", "latest", "raw.githubusercontent.com", "github", "gov-takedowns", "master")


def _doc(url: str, body: bytes) -> Document:
    return Document(url=url, body=body, fetched_at=FETCHED)


def _notice(path: str, body: bytes) -> tuple[Notice, list[Warning]]:
    records = list(gn.parse(_doc(gn.raw_url(path), body)))
    notices = [r for r in records if isinstance(r, Notice)]
    assert len(notices) == 1
    return notices[0], [r for r in records if isinstance(r, Warning)]


class MirrorFakeSession:
    """A stand-in for the HTTP session: serves ../shared/mirror/latest, or given bodies."""

    def __init__(self, bodies: dict[str, bytes] | None = None):
        self.bodies = bodies
        self.requested: list[tuple[str, str | None]] = []

    def get(self, url, *, expect=None, conditional=True):
        self.requested.append((url, expect))
        if self.bodies is not None:
            if url not in self.bodies:
                raise FetchError(f"{url}: HTTP 404 Not Found")
            return _doc(url, self.bodies[url])
        return mirror_document("latest", url)


# --------------------------------------------------------------------------
# The real repository (../shared)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    session = MirrorFakeSession()
    documents = gn.fetch(session)
    records = [r for d in documents for r in gn.parse(d)]
    notices = {r.notice_id: r for r in records if isinstance(r, Notice)}
    warns = [r for r in records if isinstance(r, Warning)]
    return session, documents, notices, warns


def test_fetch_lists_then_reads_every_notice(real):
    session, documents, notices, warns = real
    assert session.requested[0] == (gn.LISTING_URL, "json")
    assert len(documents) == 110  # the listing + 109 notices
    assert all(expect == "markdown" for _, expect in session.requested[1:])
    urls = [u for u, _ in session.requested[1:]]
    # Path segments are URL-quoted; PDFs and the repository's own files are not fetched.
    assert gn.RAW_BASE + "Hong%20Kong/2021/2021-12-15-CSTCB.md" in urls
    assert not any(u.endswith((".pdf", "README.md", "CONTRIBUTING.md", "CODE_OF_CONDUCT.md")) for u in urls)
    assert len(notices) == 109
    assert warns == []  # README.md, CONTRIBUTING.md, CODE_OF_CONDUCT.md and the PDF scans are expected


def test_real_notices_countries_dates_agencies(real):
    _, _, notices, _ = real
    by_country = collections.Counter((n.country_name, n.country_code) for n in notices.values())
    assert by_country == {("Russia", "RU"): 95, ("China", "CN"): 9, ("Hong Kong", "HK"): 2,
                          ("Spain", "ES"): 2, ("Singapore", "SG"): 1}
    # Every Russian notice is from Roskomnadzor, however the file name spells it.
    russian = [n for n in notices.values() if n.country_code == "RU"]
    assert {n.agency for n in russian} == {"Roskomnadzor"}
    assert {n.agency_as_published for n in russian} == {
        "roskomnadzor", "Roskomnadzor", "Rozkomnadzor", "Roskomnnadzor", "roscomnadzor", "fast-die",
    }
    assert {n.agency for n in notices.values()} == {
        "Roskomnadzor",
        "Ministry of Public Security of China (Cyber Security Department)",
        "Beijing Network Industry Association",
        "Cyber Security and Technology Crime Bureau, Hong Kong Police Force",
        "Guardia Civil",
        "SingCERT (Singapore Computer Emergency Response Team)",
        "Cyber Security Association of China",
    }
    assert all(n.notice_date is not None and n.platform == "GitHub" for n in notices.values())
    assert min(n.notice_date for n in notices.values()) == date(2014, 10, 21)
    assert max(n.notice_date for n in notices.values()) == date(2023, 6, 25)


def test_real_notice_fields(real):
    _, _, notices, _ = real
    n = notices["Russia/2020/2020-08-12-Roskomnnadzor-6.md"]
    assert (n.agency, n.agency_as_published, n.notice_date) == ("Roskomnadzor", "Roskomnnadzor", date(2020, 8, 12))
    assert n.urls == ("https://gist.github.com/anonymous/5f6c9b1e8594d637a73e754669f30234",)
    assert n.title == "Roskomnadzor notice of 2020-08-12 (no. 6)"  # no notice has a heading
    assert n.source_url == "https://github.com/github/gov-takedowns/blob/master/Russia/2020/2020-08-12-Roskomnnadzor-6.md"

    hk = notices["Hong Kong/2021/2021-12-15-CSTCB.md"]
    assert hk.source_url == "https://github.com/github/gov-takedowns/blob/master/Hong%20Kong/2021/2021-12-15-CSTCB.md"
    assert hk.urls == ("https://bartertone.github.io/leavehomesafer/",
                       "https://github.com/RYANCOAL9999/leavehomesafe-android-block-network")

    nested = notices["Russia/2018/2018-10-24-roskomnadzor/2018-10-24-roskomnadzor.md"]
    assert nested.notice_date == date(2018, 10, 24) and nested.urls == ("http://mdz-rus.github.io",)

    # A file name that names the content, not the sender: the signature says who.
    zhao = notices["China/2016/2016-06-08-programthink-zhao.md"]
    assert zhao.agency == "Cyber Security Association of China"
    assert zhao.urls == ("https://github.com/programthink/zhao/issues/38",)

    # A Roskomnadzor notice naming a site that is not on GitHub keeps it;
    # Roskomnadzor's own register address (eais.rkn.gov.ru) is boilerplate.
    assert notices["Russia/2019/2019-06-20-roskomnadzor.md"].urls == (
        "http://beznadyoga.com/articles/lostallhope/suicide-books.html",
    )
    # Notices that name content without an address have no URLs.
    assert notices["Spain/2019/2019-10-26-GuardiaCivil.md"].urls == ()
    # China/2021/2021-01-29-BNIA.md lists 39 addresses.
    assert len(notices["China/2021/2021-01-29-BNIA.md"].urls) == 39


def test_real_notice_text_is_the_file_as_published(real):
    _, _, notices, _ = real
    for path in ("Russia/2014/2014-10-21-roskomnadzor.md", "Singapore/2023/2023-06-25-SingCERT.md"):
        body = shared_path(*NOTICES_DIR, *path.split("/")).read_bytes()
        assert notices[path].text == body.decode("utf-8")
    # This one has CR-only line endings; they become \n and nothing else changes.
    body = shared_path(*NOTICES_DIR, "China", "2016", "2016-06-08-programthink-zhao.md").read_bytes()
    assert notices["China/2016/2016-06-08-programthink-zhao.md"].text == body.decode("utf-8").replace("\r", "\n")


# --------------------------------------------------------------------------
# Excerpts (tests/fixtures/github-notices)
# --------------------------------------------------------------------------


def _listing_body(**changes) -> bytes:
    listing = json.loads((FIX / "tree-excerpt.json").read_text())
    listing.update(changes)
    return json.dumps(listing).encode()


def test_fetch_from_the_listing_excerpt_reads_only_notices():
    bodies = {gn.LISTING_URL: (FIX / "tree-excerpt.json").read_bytes()}
    wanted = [
        "Hong Kong/2021/2021-12-15-CSTCB.md",
        "Russia/2018/2018-10-24-roskomnadzor/2018-10-24-roskomnadzor.md",
        "Russia/2020/2020-08-12-Roskomnnadzor-6.md",
        "Singapore/2023/2023-06-25-SingCERT.md",
    ]
    for path in wanted:
        bodies[gn.raw_url(path)] = b"notice"
    session = MirrorFakeSession(bodies)
    documents = gn.fetch(session)
    assert [d.url for d in documents] == [gn.LISTING_URL] + [gn.raw_url(p) for p in wanted]
    assert gn.raw_url(wanted[0]) == "https://raw.githubusercontent.com/github/gov-takedowns/master/Hong%20Kong/2021/2021-12-15-CSTCB.md"


def test_fetch_fails_when_a_listed_notice_is_missing():
    session = MirrorFakeSession({gn.LISTING_URL: (FIX / "tree-excerpt.json").read_bytes()})
    with pytest.raises(FetchError):
        gn.fetch(session)


def test_listing_gives_no_records_but_reports_odd_entries():
    assert list(gn.parse(_doc(gn.LISTING_URL, (FIX / "tree-excerpt.json").read_bytes()))) == []
    listing = json.loads((FIX / "tree-excerpt.json").read_text())
    listing["tree"].append({"path": "Russia/2024/list.txt", "type": "blob"})
    listing["tree"].append({"path": "Russia/notice.md", "type": "blob"})
    listing["truncated"] = True
    records = list(gn.parse(_doc(gn.LISTING_URL, json.dumps(listing).encode())))
    assert [(r.kind, r.detail.split("'")[1] if "'" in r.detail else "") for r in records] == [
        ("listing_truncated", ""),
        ("not_a_notice", "Russia/2024/list.txt"),
        ("not_a_notice", "Russia/notice.md"),
    ]


def test_listing_without_a_tree_is_a_parse_error():
    with pytest.raises(ParseError, match="no 'tree' list"):
        list(gn.parse(_doc(gn.LISTING_URL, b'{"message": "Not Found"}')))
    with pytest.raises(ParseError, match="not JSON"):
        list(gn.parse(_doc(gn.LISTING_URL, b"<html>rate limited</html>")))


def test_defanged_url_kept_as_written_and_preface_link_left_out():
    notice, warns = _notice("Singapore/2023/2023-06-25-SingCERT.md", (FIX / "2023-06-25-SingCERT-excerpt.md").read_bytes())
    assert warns == []
    assert notice.urls == ("https[:]//github[.]com/EVLF/Cypher-Rat-Source-Code",)
    assert (notice.country_code, notice.notice_date) == ("SG", date(2023, 6, 25))
    assert notice.notice_id == notice.member == "Singapore/2023/2023-06-25-SingCERT.md"


def test_notice_text_is_stored_verbatim_even_when_hostile():
    # Notice text is untrusted: markup stays exactly as written, never rendered or cleaned.
    body = (FIX / "2021-12-15-CSTCB-excerpt.md").read_bytes() + b'\n<script>alert("x")</script> [x](javascript:alert(1))\n'
    notice, _ = _notice("Hong Kong/2021/2021-12-15-CSTCB.md", body)
    assert notice.text == body.decode()
    assert notice.country_name == "Hong Kong" and notice.country_code == "HK"


def test_unknown_requester_is_kept_and_reported():
    notice, warns = _notice("Russia/2024/2024-01-02-SomeAgency.md", (FIX / "2021-12-15-CSTCB-excerpt.md").read_bytes())
    assert (notice.agency, notice.agency_as_published) == ("SomeAgency", "SomeAgency")
    assert [w.kind for w in warns] == ["unknown_agency"]


def test_agency_spellings():
    for label in ("roskomnadzor", "Roskomnadzor", "Rozkomnadzor", "Roskomnnadzor", "roscomnadzor"):
        assert gn.agency_for(label) == "Roskomnadzor"
    assert gn.agency_for("MPS") == "Ministry of Public Security of China (Cyber Security Department)"
    assert gn.agency_for("BNIA") == "Beijing Network Industry Association"
    assert gn.agency_for("GuardiaCivil") == "Guardia Civil"
    assert gn.agency_for("fast-die") is None


def test_a_non_notice_path_is_a_parse_error():
    with pytest.raises(ParseError, match="not a notice path"):
        list(gn.parse(_doc(gn.RAW_BASE + "README.md", b"# What is this?")))
    with pytest.raises(ParseError, match="neither the tree listing"):
        list(gn.parse(_doc("https://example.org/notice.md", b"text")))


def test_date_not_matching_its_year_folder_is_reported():
    _, warns = _notice("Russia/2021/2020-12-30-Roskomnadzor.md", b"text")
    assert [w.kind for w in warns] == ["date_mismatch"]


def test_listing_paths_that_climb_out_of_the_repository_are_refused():
    import json
    from datetime import datetime, timezone

    from scrapers.models import Document

    listing = {"tree": [{"path": "../2019/2019-01-01-x.md", "type": "blob"},
                        {"path": "Russia/2019/../../secret.md", "type": "blob"},
                        {"path": "Russia/2019/2019-06-20-roskomnadzor.md", "type": "blob"}]}  # fmt: skip
    doc = Document(url=gn.SPEC.urls[0], body=json.dumps(listing).encode(), fetched_at=datetime.now(timezone.utc))
    with pytest.raises(ParseError, match="leave the repository"):
        gn.notice_paths(doc)
