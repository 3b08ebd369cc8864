"""The S3 archive store against a real S3-compatible server (Ceph radosgw started by a fixture).

Covered: sha256 metadata, write-once, changed objects caught on get and by `verify`, tenant
isolation, and a whole contract archived, verified, tampered with and erased through a runtime
configured with it."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from bot.app.runtime import open_runtime
from bot.archive import retention
from bot.archive.store import export_zip, verify_entry
from bot.core.settings import ArchiveSettings, SecretRef, ServiceSettings
from bot.core.stores import archive_store
from bot.errors import ConfigError
from storage.blobs import sha256_hex
from storage.errors import BlobConflict, BlobCorrupt, BlobError, BlobMissing
from storage.s3 import S3BlobStore
from tests.fixtures.ceph import CephS3
from tests.fixtures.runtime import make_tenant, scoped
from tests.integration.test_archive_verify import archive_one

YEAR = 2026


def store_message(s3: CephS3) -> S3BlobStore:
    return S3BlobStore(
        bucket=s3.bucket,
        endpoint_url=s3.endpoint_url,
        region=s3.region,
        access_key_id=s3.access_key_id,
        secret_access_key=s3.secret_access_key,
    )


@pytest.fixture
def store(ceph_s3: CephS3) -> S3BlobStore:
    return store_message(ceph_s3)


def _tenant() -> str:
    return make_tenant().slug  # a fresh slug: the bucket is shared by the whole session


def _key(store: S3BlobStore, locator: str) -> str:
    return store.key(locator)


async def test_put_get_roundtrip_keeps_sha256_in_metadata(store, ceph_s3):
    t = _tenant()
    data = b"%PDF-1.7 signed contract"
    locator = await store.async_put(t, YEAR, data, ".pdf")
    digest = sha256_hex(data)
    assert locator == f"s3://{ceph_s3.bucket}/{t}/{YEAR}/{digest}.pdf"
    head = ceph_s3.client().head_object(Bucket=ceph_s3.bucket, Key=_key(store, locator))
    assert head["Metadata"] == {"sha256": digest}
    assert head["ContentType"] == "application/pdf"
    assert await store.async_get(locator) == data
    assert await store.async_get(locator, tenant=t) == data
    assert store.holds(locator) and not store.holds("/var/archive/x.pdf")


async def test_write_once_same_bytes_are_a_no_op_other_bytes_are_refused(store, ceph_s3):
    t = _tenant()
    client = ceph_s3.client()
    manifest = await store.async_put(t, YEAR, b'{"manifest": 1}', ".json")
    before = client.head_object(Bucket=ceph_s3.bucket, Key=_key(store, manifest))
    assert await store.async_put(t, YEAR, b'{"manifest": 1}', ".json") == manifest
    after = client.head_object(Bucket=ceph_s3.bucket, Key=_key(store, manifest))
    assert after["LastModified"] == before["LastModified"]  # not uploaded again

    tsr = await store.async_put_beside(manifest, ".tsr", b"token one")
    assert tsr == manifest.removesuffix(".json") + ".tsr"
    assert await store.async_put_beside(manifest, ".tsr", b"token one") == tsr
    with pytest.raises(BlobConflict, match="never overwritten"):
        await store.async_put_beside(manifest, ".tsr", b"token two")
    assert await store.async_get(tsr) == b"token one"

    # A content-addressed object changed behind the store's back is not "fixed" by a put:
    # the store refuses to write over it and says why.
    data = b"%PDF original"
    pdf = await store.async_put(t, YEAR, data, ".pdf")
    client.put_object(Bucket=ceph_s3.bucket, Key=_key(store, pdf), Body=b"%PDF forged", Metadata={})
    with pytest.raises(BlobCorrupt, match="no sha256 metadata"):
        await store.async_put(t, YEAR, data, ".pdf")


async def test_get_reports_an_object_changed_behind_the_stores_back(store, ceph_s3):
    t = _tenant()
    client = ceph_s3.client()
    data = bytes(range(256)) * 40
    locator = await store.async_put(t, YEAR, data, ".pdf")
    key = _key(store, locator)
    digest = sha256_hex(data)
    flipped = bytearray(data)
    flipped[1234] ^= 0x01
    # Same metadata, one bit changed: the recorded sha256 no longer matches.
    client.put_object(
        Bucket=ceph_s3.bucket, Key=key, Body=bytes(flipped), Metadata={"sha256": digest}
    )
    with pytest.raises(BlobCorrupt, match="does not match its sha256 metadata"):
        await store.async_get(locator)
    # Replaced without metadata, as a plain upload would.
    client.put_object(Bucket=ceph_s3.bucket, Key=key, Body=data)
    with pytest.raises(BlobCorrupt, match="no sha256 metadata"):
        await store.async_get(locator)


async def test_tenants_are_kept_apart(store, ceph_s3, tmp_path):
    a = _tenant()
    ab = f"{a}-b"  # a longer slug with a's as prefix must not see a's objects
    data_a, data_ab = b"a's contract", b"ab's contract"
    in_a = await store.async_put(a, YEAR, data_a, ".pdf")
    in_ab = await store.async_put(ab, YEAR - 1, data_ab, ".pdf")
    assert _key(store, in_a).startswith(f"{a}/{YEAR}/")
    assert _key(store, in_ab).startswith(f"{ab}/{YEAR - 1}/")
    with pytest.raises(BlobError, match=f"not in tenant {ab}'s archive"):
        await store.async_get(in_a, tenant=ab)
    names_a = [name async for name, _ in store.async_walk(a)]
    names_ab = [name async for name, _ in store.async_walk(ab)]
    assert names_a == [f"{YEAR}/{sha256_hex(data_a)}.pdf"]
    assert names_ab == [f"{YEAR - 1}/{sha256_hex(data_ab)}.pdf"]
    # Locators outside this bucket, or not shaped <tenant>/<yyyy>/<name>, are refused.
    for bad in (
        f"s3://other-bucket/{a}/{YEAR}/x.pdf",
        f"s3://{ceph_s3.bucket}/{a}/../{ab}/x.pdf",
        f"s3://{ceph_s3.bucket}/{a}/x.pdf",
        str(tmp_path / "x.pdf"),
    ):
        assert not store.holds(bad)
        with pytest.raises(BlobError):
            await store.async_get(bad)
    out = tmp_path / "ab.zip"
    assert await export_zip(store, ab, out) == 1
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == sorted([*names_ab, "SHA256SUMS"])


async def test_remove_is_idempotent(store):
    t = _tenant()
    locator = await store.async_put(t, YEAR, b"to be erased", ".eml")
    await store.async_remove(locator)
    with pytest.raises(BlobMissing):
        await store.async_get(locator)
    await store.async_remove(locator)


async def test_wrong_bucket_or_key_stop_the_start_with_a_sentence(ceph_s3):
    wrong_bucket = S3BlobStore(
        bucket="no-such-bucket",
        endpoint_url=ceph_s3.endpoint_url,
        access_key_id=ceph_s3.access_key_id,
        secret_access_key=ceph_s3.secret_access_key,
    )
    with pytest.raises(BlobError, match="bucket no-such-bucket does not exist"):
        await wrong_bucket.async_check()
    wrong_key = S3BlobStore(
        bucket=ceph_s3.bucket,
        endpoint_url=ceph_s3.endpoint_url,
        access_key_id=ceph_s3.access_key_id,
        secret_access_key="not-the-secret",
    )
    with pytest.raises(BlobError, match="access key"):
        await wrong_key.async_check()
    assert "not-the-secret" not in repr(wrong_key)


def test_an_incomplete_s3_archive_config_is_one_sentence(tmp_path):
    settings = ServiceSettings(data_dir=tmp_path, archive=ArchiveSettings(store="s3", bucket="b"))
    with pytest.raises(ConfigError) as err:
        archive_store(settings)
    assert str(err.value) == (
        "The [archive] store 's3' needs 'access_key_id', 'secret_access_key' in dpabot.toml."
    )
    unset = ArchiveSettings(
        store="s3",
        bucket="b",
        access_key_id=SecretRef(env="DPABOT_TEST_UNSET_KEY_ID"),
        secret_access_key=SecretRef(file=tmp_path / "secret"),
    )
    with pytest.raises(ConfigError, match="DPABOT_TEST_UNSET_KEY_ID"):
        archive_store(ServiceSettings(data_dir=tmp_path, archive=unset))


async def test_a_runtime_archiving_to_s3_verifies_and_catches_a_flip(
    ceph_s3, database_url, tmp_path, monkeypatch
):
    (tmp_path / "key-id").write_text(ceph_s3.access_key_id + "\n")
    monkeypatch.setenv("DPABOT_TEST_S3_SECRET", ceph_s3.secret_access_key)
    settings = ServiceSettings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        archive=ArchiveSettings(
            store="s3",
            endpoint_url=ceph_s3.endpoint_url,
            bucket=ceph_s3.bucket,
            access_key_id=SecretRef(file=tmp_path / "key-id"),
            secret_access_key=SecretRef(env="DPABOT_TEST_S3_SECRET"),
        ),
    )
    tenant = make_tenant(transport="maildir")
    slug = tenant.slug
    async with open_runtime(settings, [tenant]) as rt:
        assert isinstance(rt.archive, S3BlobStore)
        entry = await archive_one(rt, slug, "MOOI Schoonheidsverzorging", "k@mooi.example")
        roots = rt.signing[slug].trust_roots
        for locator in (entry.path, entry.manifest_path, entry.timestamp_path):
            assert locator and locator.startswith(f"s3://{ceph_s3.bucket}/{slug}/")
        assert not (tmp_path / "var" / "archive").exists()  # nothing went to the disk
        check = await verify_entry(entry, roots, rt.archive)
        assert check.ok, check.problems

        client = ceph_s3.client()
        for locator in (entry.path, entry.manifest_path):
            key = rt.archive.key(locator)  # type: ignore[attr-defined]
            original = client.get_object(Bucket=ceph_s3.bucket, Key=key)
            body = original["Body"].read()
            flipped = bytearray(body)
            flipped[len(body) // 2] ^= 0x01
            client.put_object(
                Bucket=ceph_s3.bucket, Key=key, Body=bytes(flipped), Metadata=original["Metadata"]
            )
            try:
                check = await verify_entry(entry, roots, rt.archive)
                assert not check.ok
                assert any("does not match its sha256 metadata" in p for p in check.problems)
            finally:
                client.put_object(
                    Bucket=ceph_s3.bucket, Key=key, Body=body, Metadata=original["Metadata"]
                )
        assert (await verify_entry(entry, roots, rt.archive)).ok

        # Retention ten years on: the rows say erased and, after the commit, the objects go.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=366 * 10)
        async with scoped(rt) as s:
            erased = await retention.apply_tenant(
                s,
                rt.tenant_ids[slug],
                incomplete_days=365,
                signed_years=10,
                blobs=rt.blobs,
                archive=rt.archive,
                now=later,
            )
        assert erased == [entry.contract_id]
        assert [name async for name, _ in rt.archive.async_walk(slug)] == []
