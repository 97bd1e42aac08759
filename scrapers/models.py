"""The records that flow between fetching, parsing and storing.

A source module declares a `SourceSpec`, its `fetch` returns `Document`s and its
`parse` turns one `Document` into `Observation`s, `Notice`s and `Warning`s.
Nothing here touches the network or the database.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Union

import pyarrow as pa

# The metric vocabulary. A parser may only emit these names; the store refuses
# others, so the dashboard never meets a metric it cannot label.
METRICS: dict[str, str] = {
    "requests": "Removal requests (count)",
    "items_requested": "Items (URLs, posts, videos…) requested to be removed (count)",
    "items_actioned": "Items removed or restricted (count)",
    "requests_actioned": "Requests on which the platform took some action (count)",
    "accounts_specified": "Accounts named in the requests (count)",
    "accounts_actioned": "Accounts removed or restricted (count)",
    "orders": "Orders from public authorities (count)",
    "orders_to_provide_information": "Orders to provide information (count)",
    "median_hours_to_inform": "Median time to confirm receipt of an order (hours)",
    "median_hours_to_effect": "Median time to give effect to an order (hours)",
    "pct_requests_complied": "Share of requests fully or partly complied with (percent of requests)",
    "pct_requests_actioned": "Share of requests on which action was taken (percent of requests)",
    "pct_items_removed_legal": "Items removed for legal reasons (percent of items)",
    "pct_items_removed_policy": "Items removed for policy violations (percent of items)",
    "pct_items_not_found": "Items not found (percent of items)",
    "pct_items_not_enough_info": "Not enough information to act (percent of items)",
    "pct_items_no_action": "No action taken (percent of items)",
    "pct_items_already_removed": "Items already removed (percent of items)",
    "pct_items_actioned": "Items removed or restricted (percent of items)",
    "removal_rate": "Items removed (fraction of 1 of items)",
    "requests_for_user_data": "Requests for user data (count)",
    "pct_requests_data_produced": "Requests where some data was produced (percent of requests)",
    "content_restrictions": "Pieces of content restricted under local law (count)",
    "items_no_action": "Items on which no action was taken (count)",
    "requests_processed": "Requests the platform processed, i.e. acted on under its rules or local law (count; GitHub's term)",
    "pages_actioned": "Hosted web sites affected by actioned requests (count; GitHub Pages sites, which may belong to the repositories counted as items)",
    "requests_data_produced": "Requests for user data where some data was produced (count)",
    "accounts_data_produced": "Accounts for which some data was produced (count)",
    "pct_of_requests": "Share of all requests that are of the row's kind, e.g. subpoenas (percent of requests)",
    "pct_requests_content_withheld": "Share of requests where some content was withheld in the requesting country (percent of requests)",
    "accounts_withheld": "Accounts withheld in the requesting country (count)",
    "items_withheld": "Items (posts, Tweets…) withheld in the requesting country (count)",
    "accounts_actioned_tos": "Accounts named in legal requests that were actioned under the platform's terms of service (count)",
    "accounts_no_action": "Accounts named in legal requests on which no action was taken (count)",
    "user_accounts_referenced": "User accounts referenced in requests for user data (count)",
    "requests_rejected": "Requests the platform objected to or rejected, in part or in full (count)",
    "appeals_received": "Appeals received against removals made on request (count)",
    "appeals_granted": "Appeals against removals that were granted (count)",
    "items_reinstated": "Items (apps, posts…) reinstated after an appeal (count)",
}

# The unit of each metric: values are only ever charted on one axis with values
# of the same unit.
METRIC_UNITS: dict[str, str] = {
    name: (
        "percent" if name.startswith("pct_")
        else "fraction" if name == "removal_rate"
        else "hours" if "hours" in name
        else "count"
    )
    for name in METRICS
}


@dataclass(frozen=True)
class SourceSpec:
    """What a source declares about itself (its contract)."""

    slug: str
    platform: str
    title: str
    urls: tuple[str, ...]
    cadence: str  # "half-yearly", "yearly", "per notice", "archived"
    homepage: str  # the human-readable report page
    datasets: dict[str, str]  # dataset name -> one-line description
    # Datasets whose `requests`-style metrics give the headline per country and
    # period, in order of preference (the first that has a period wins).
    headline_datasets: tuple[str, ...] = ()
    expect: str = "csv"  # what the main URL must return: zip, csv, html, json, markdown, pdf
    notes: str = ""  # scope notes shown by `takedowns sources`
    import_only: bool = False  # no stable URL: loaded with `takedowns import`


@dataclass(frozen=True)
class Document:
    """One fetched (or imported) file: bytes plus where and when they came from."""

    url: str
    body: bytes
    fetched_at: datetime
    http_status: int | None = 200
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    not_modified: bool = False  # a 304: body is the archived copy
    published_as_of: date | None = None  # for imports: when the file was published
    origin: str = "fetch"  # fetch, mirror, import

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @functools.cached_property
    def document_id(self) -> str:
        # Stable across database rebuilds: the same bytes from the same URL.
        return hashlib.sha256(f"{self.url}\n{self.sha256}".encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1] or self.url


@dataclass(frozen=True, slots=True)
class Observation:
    """One published figure at the finest breakdown its table gives."""

    dataset: str
    period_start: date
    period_end: date
    metric: str
    value: float | None  # None when banded ("<10") or unknown ("?")
    value_text: str  # the cell exactly as published
    value_low: float | None = None  # inclusive bounds; equal to value when exact
    value_high: float | None = None
    country_name: str | None = None  # as published
    country_code: str | None = None  # as published, if the file gives one
    requester: str = ""  # "" = not broken down by requester
    product: str = ""
    reason: str = ""
    is_total: bool = False  # a published total of other rows: never summed with them
    # For a total row: the dimension it adds up over ("country", "requester",
    # "product", "reason"), so the pipeline can check it against its rows.
    total_over: str = ""
    member: str = ""  # zip member, table or section the figure is in
    row: int | None = None  # 1-based line/row number within member
    platform: str | None = None  # overrides the spec's platform (e.g. DSA "Service")


@dataclass(frozen=True, slots=True)
class Notice:
    """One published takedown notice (e.g. GitHub's gov-takedowns repository)."""

    notice_id: str
    platform: str
    country_name: str | None
    country_code: str | None
    notice_date: date | None
    agency: str  # normalised requesting agency
    agency_as_published: str
    title: str
    urls: tuple[str, ...]
    text: str  # untrusted: stored and shown as plain text only
    source_url: str  # where a person can read it
    member: str = ""


@dataclass(frozen=True, slots=True)
class Warning:
    """A data-quality finding that does not stop a load (shown by status)."""

    kind: str  # unknown_country, banded_value, total_mismatch, duplicate_row, …
    detail: str
    member: str = ""
    row: int | None = None


# The columns of a batch of Observations (the dataclass fields, in order).
OBSERVATION_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("value_text", pa.string()),
        ("value_low", pa.float64()),
        ("value_high", pa.float64()),
        ("country_name", pa.string()),
        ("country_code", pa.string()),
        ("requester", pa.string()),
        ("product", pa.string()),
        ("reason", pa.string()),
        ("is_total", pa.bool_()),
        ("total_over", pa.string()),
        ("member", pa.string()),
        ("row", pa.int64()),
        ("platform", pa.string()),
    ]
)


@dataclass(frozen=True)
class ObservationTable:
    """Many Observations as columns (a pyarrow Table with OBSERVATION_SCHEMA).

    Large tables (Google's 100,000 figures) travel from parse to store this way,
    without a Python object per figure; iterating gives the Observations.
    """

    table: pa.Table

    def __post_init__(self) -> None:
        if not self.table.schema.equals(OBSERVATION_SCHEMA):
            raise TypeError(f"ObservationTable needs the schema {OBSERVATION_SCHEMA}, got {self.table.schema}")

    def __len__(self) -> int:
        return self.table.num_rows

    def __iter__(self) -> Iterator[Observation]:
        for row in self.table.to_pylist():
            yield Observation(**row)

    @classmethod
    def of(cls, observations: Iterable[Observation]) -> ObservationTable:
        rows = list(observations)
        columns = {name: [getattr(o, name) for o in rows] for name in OBSERVATION_SCHEMA.names}
        return cls(pa.table(columns, schema=OBSERVATION_SCHEMA))

    @classmethod
    def concat(cls, parts: Iterable[ObservationTable]) -> ObservationTable:
        tables = [p.table for p in parts]
        return cls(pa.concat_tables(tables) if tables else OBSERVATION_SCHEMA.empty_table())


def observations_in(records: Iterable[object]) -> Iterator[Observation]:
    """The Observations among a parser's records, batches expanded."""
    for record in records:
        if isinstance(record, Observation):
            yield record
        elif isinstance(record, ObservationTable):
            yield from record


Record = Union[Observation, ObservationTable, Notice, Warning]


class TakedownsError(Exception):
    """Base of the errors a source can end with; the message is for people."""


class FetchError(TakedownsError):
    """The network or the server did not give us the expected file."""


class ParseError(TakedownsError):
    """A file did not have the shape its parser expects."""


@dataclass
class SourceResult:
    """What one source's refresh did (for the CLI and status)."""

    slug: str
    status: str  # loaded, unchanged, failed
    message: str = ""
    documents: int = 0
    observations: int = 0
    notices: int = 0
    revisions: int = 0
    warnings: int = 0
    details: list[str] = field(default_factory=list)
