"""Upload a published folder to S3-compatible object storage: only what changed, feeds and pages last.

Each object is written whole (S3 makes a put visible only when it is complete), episodes and
their files go before the feeds and pages that name them, and nothing is deleted before
everything is written: an upload that stops part-way leaves the old feeds pointing at objects
that are all there, and the next upload finishes the job.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from urllib.parse import urlsplit

from pelvicvoice.errors import Location, OutputError
from pelvicvoice.publishing.upload_plan import (
    Destination,
    LocalFile,
    Put,
    RemoteObject,
    UploadPlan,
    is_site_key,
    local_files,
    parse_destination,
    phase,
    plan_upload,
)

HASH_METADATA = "sha256"  # sent as x-amz-meta-sha256: an ETag is no content hash for a multipart upload
_INSTALL_HINT = "install the S3 client with: pip install 'pelvicvoice[s3]'"
_WORKERS = 8
_DELETE_BATCH = 1000  # the most one DeleteObjects request takes
_REFUSED_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
_CREDENTIALS_HINT = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"


@dataclass(frozen=True)
class UploadReport:
    """What an upload wrote (or, dry, would write)."""

    destination: Destination
    written: int
    bytes_written: int
    unchanged: int
    deleted: int
    seconds: float
    dry_run: bool

    def summary(self) -> str:
        """Say in one line what was written (or would be) and deleted."""
        wrote, deleted = ("to write", "to delete") if self.dry_run else ("written", "deleted")
        return (
            f"{self.written} objects {wrote} ({self.bytes_written / 1e6:.1f} MB), {self.unchanged} unchanged, "
            f"{self.deleted} {deleted}, {self.seconds:.1f} s"
        )


def upload_site(
    site_dir: Path,
    destination_text: str,
    endpoint_url: str | None = None,
    delete: bool = False,
    dry_run: bool = False,
    on_step: Callable[[str], None] = lambda line: None,
) -> UploadReport:
    """Upload what changed in site_dir to destination; say each put and delete to on_step."""
    started = time.perf_counter()
    destination = parse_destination(destination_text)
    local = local_files(site_dir)
    client = _client(destination, endpoint_url)
    remote = _remote_objects(client, destination, {file.key: file for file in local})
    plan = plan_upload(local, remote, delete)
    if dry_run:
        for put in plan.puts:
            on_step(f"would put {destination.url(put.file.key)} ({put.reason})")
        for key in plan.deletes:
            on_step(f"would delete {destination.url(key)}")
    else:
        _execute(client, destination, plan, on_step)
    return UploadReport(
        destination,
        len(plan.puts),
        sum(put.file.size for put in plan.puts),
        plan.unchanged,
        len(plan.deletes),
        time.perf_counter() - started,
        dry_run,
    )


def _client(destination: Destination, endpoint_url: str | None):
    """Make an S3 client from boto3's own chain: credentials, region and AWS_ENDPOINT_URL unless given."""
    try:
        import boto3
        from botocore.config import Config
    except ModuleNotFoundError:
        raise OutputError.at(Location(destination.url()), f"boto3 is not installed; {_INSTALL_HINT}") from None
    try:
        with _talking(destination.url(), "connect", endpoint_url or ""):  # a profile botocore cannot use
            # One connection for each worker, so urllib3 never warns that its pool is full.
            return boto3.client("s3", endpoint_url=endpoint_url, config=Config(max_pool_connections=_WORKERS))
    except ValueError:  # botocore's word for an endpoint it cannot parse
        raise OutputError.at(
            Location(destination.url()),
            f"--endpoint-url {_without_userinfo(endpoint_url or '')!r} is no URL; write e.g. http://127.0.0.1:9000",
        ) from None


def _remote_objects(client, destination: Destination, local: Mapping[str, LocalFile]) -> dict[str, RemoteObject]:
    """List the objects under the prefix, and read the hash and headers of those that may be unchanged."""
    listed = {}
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=destination.bucket, Prefix=destination.prefix)
    with _talking(destination.url(), "list", client.meta.endpoint_url):
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(destination.prefix) :]
                if is_site_key(key):  # hidden names and folder markers are not the site's: they are left alone
                    listed[key] = RemoteObject(key, item["Size"])
    # Only an object of the same size can be unchanged: the others need no look.
    candidates = [key for key, there in listed.items() if key in local and local[key].size == there.size]

    def head(key: str) -> RemoteObject:
        with _talking(destination.url(key), "read", client.meta.endpoint_url):
            answer = client.head_object(Bucket=destination.bucket, Key=destination.prefix + key)
        return RemoteObject(
            key, listed[key].size, answer["Metadata"].get(HASH_METADATA), answer.get("ContentType"),
            answer.get("CacheControl"),
        )  # fmt: skip

    with ThreadPoolExecutor(_WORKERS) as pool:
        listed.update((described.key, described) for described in pool.map(head, candidates))
    return listed


def _execute(client, destination: Destination, plan: UploadPlan, on_step: Callable[[str], None]) -> None:
    """Make the puts phase by phase, each phase only once the one before is whole; then the deletes."""
    from boto3.s3.transfer import TransferConfig

    # Each worker uploads one file at a time; the workers are what runs in parallel.
    transfer = TransferConfig(use_threads=False)

    def put(step: Put) -> Put:
        extra = {
            "ContentType": step.content_type,
            "CacheControl": step.cache_control,
            "Metadata": {HASH_METADATA: step.file.sha256},
        }
        with _talking(destination.url(step.file.key), "write", client.meta.endpoint_url):
            client.upload_file(
                str(step.file.path), destination.bucket, destination.prefix + step.file.key, ExtraArgs=extra,
                Config=transfer,
            )  # fmt: skip
        return step

    pool = ThreadPoolExecutor(_WORKERS)
    try:
        for _, steps in groupby(plan.puts, key=lambda step: phase(step.file.key)):
            # The first failure ends the upload: what was not started yet is never started.
            for future in as_completed([pool.submit(put, step) for step in steps]):
                on_step(f"put {destination.url(future.result().file.key)}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for start in range(0, len(plan.deletes), _DELETE_BATCH):
        batch = plan.deletes[start : start + _DELETE_BATCH]
        objects = [{"Key": destination.prefix + key} for key in batch]
        with _talking(destination.url(), "delete", client.meta.endpoint_url):
            answer = client.delete_objects(Bucket=destination.bucket, Delete={"Objects": objects, "Quiet": True})
        if answer.get("Errors"):
            refused = answer["Errors"][0]
            raise OutputError.at(
                Location(f"s3://{destination.bucket}/{refused['Key']}"), f"delete refused: {refused['Code']}"
            )
        for key in batch:
            on_step(f"delete {destination.url(key)}")


@contextmanager
def _talking(where: str, doing: str, endpoint_url: str) -> Iterator[None]:
    """Turn what the store, the network or the credential chain says into one OutputError at where."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except S3UploadFailedError as error:  # upload_file's wrapper around the store's answer
        raise _error(error.__context__ or error, where, doing, endpoint_url) from None
    except (BotoCoreError, ClientError, OSError) as error:
        raise _error(error, where, doing, endpoint_url) from None


def _error(error: Exception, where: str, doing: str, endpoint_url: str) -> OutputError:
    """Say what went wrong in one line that names no credential."""
    from botocore import exceptions

    location = Location(where)
    if isinstance(error, (exceptions.NoCredentialsError, exceptions.PartialCredentialsError)):
        return OutputError.at(location, f"no credentials found; {_CREDENTIALS_HINT}")
    if isinstance(error, exceptions.CredentialRetrievalError):  # its text may quote what the provider printed
        return OutputError.at(location, f"credentials could not be read from {error.kwargs.get('provider')}")
    if isinstance(error, exceptions.ProfileNotFound):
        return OutputError.at(location, f"profile {error.kwargs.get('profile')!r} not found; check AWS_PROFILE")
    if isinstance(error, (exceptions.ConnectionError, exceptions.HTTPClientError)):
        return OutputError.at(
            location, f"cannot reach {_origin(endpoint_url)} ({type(error).__name__}); check --endpoint-url "
            "(or AWS_ENDPOINT_URL) and the network",
        )  # fmt: skip
    if isinstance(error, exceptions.ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket" or (status == 404 and doing == "list"):
            return OutputError.at(location, "no such bucket; create it, or check the name")
        if code in _REFUSED_CREDENTIALS:
            return OutputError.at(location, f"the store refused the credentials ({code}); {_CREDENTIALS_HINT}")
        if code == "AccessDenied" or status == 403:
            return OutputError.at(
                location, f"access denied: these credentials may not {doing} here; check the bucket's policy "
                "and the user's permissions",
            )  # fmt: skip
        # The server's own words: an S3 error message carries no credential (those stay in other fields).
        return OutputError.at(location, f"cannot {doing}: {code or status} {details.get('Message', '')}".rstrip())
    return OutputError.at(location, f"cannot {doing}: {_without_userinfo(str(error))}")


def _without_userinfo(text: str) -> str:
    """Remove a user and password written into any URL in text (http://KEY:SECRET@host)."""
    # Up to the last @ before the URL ends: a secret key may hold / and @ of its own.
    return re.sub(r"(?<=//)[^\s'\"`]*@", "", text)


def _origin(url: str) -> str:
    """Return scheme://host:port of an endpoint, never any user or password written into it."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}" if parts.hostname else "the endpoint"
