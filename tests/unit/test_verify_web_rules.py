"""The verification page's pure parts: the plain-words status of each signature, the page's
language, the per-client rate limit, and its words complete in nl, fr and en."""

from __future__ import annotations

import re

from bot.app.web.explain import explain
from bot.app.web.limits import InFlight, RateLimiter, client_key
from bot.app.web.upload import UploadRefused, read_upload
from templates.web import WEB_DIR, WEB_LANGUAGES, pick_language, web_texts


def _sig(**over):
    sig = {
        "field": "Customer",
        "signer_cn": "Karolien Piskor",
        "signer_email": "k@mooi.example",
        "signing_time": "2026-12-05T07:30:03+00:00",
        "timestamp_time": "2026-12-05T07:30:03+00:00",
        "certification": False,
        "intact": True,
        "valid": True,
        "trusted": True,
        "coverage": "ENTIRE_REVISION",
        "modification_level": "LTA_UPDATES",
        "docmdp_ok": True,
        "ades_message": None,
        "time_proof": "signature_timestamp",
        "ok": True,
    }
    sig.update(over)
    return sig


def _report(*sigs, ok=None):
    return {
        "ok": all(s["ok"] for s in sigs) if ok is None else ok,
        "error": None,
        "signatures": list(sigs),
        "document_timestamps": [],
    }


def test_each_signature_gets_the_status_its_report_fields_say():
    assert explain(_report(_sig())).verdict == "valid"
    assert explain(_report(_sig())).signatures[0].later == "later_lta"
    changed = explain(_report(_sig(intact=False, trusted=False, ok=False)))
    assert changed.verdict == "changed" and changed.signatures[0].status == "changed"
    other = explain(_report(_sig(modification_level="OTHER", ok=False)))
    assert other.verdict == "changed" and other.signatures[0].status == "changed_later"
    untrusted = explain(_report(_sig(trusted=False, ok=False)))
    assert untrusted.verdict == "not_valid" and untrusted.signatures[0].status == "untrusted"
    assert explain(_report(_sig(ok=False))).signatures[0].status == "no_time"
    unreadable = _sig(intact=False, valid=False, trusted=False, coverage=None, ok=False)
    assert explain(_report(unreadable)).signatures[0].status == "unreadable"
    assert explain(_report(ok=False)).verdict == "no_signature"


def test_language_from_the_switch_then_the_browser_then_english():
    assert pick_language("fr-BE,fr;q=0.9,nl;q=0.8", "nl") == "nl"
    assert pick_language("de-DE,fr;q=0.4,nl;q=0.7") == "nl"
    assert pick_language("nl;q=0, fr") == "fr"
    assert pick_language("de, es;q=0.5") == "en"
    assert pick_language(None, "xx") == "en"


def test_rate_limit_allows_a_burst_then_refills_per_client():
    limiter = RateLimiter(per_minute=6, burst=2, max_clients=2)
    assert limiter.allow("a", 0) and limiter.allow("a", 0)
    assert not limiter.allow("a", 1)
    assert limiter.allow("b", 1)  # another client has its own bucket
    assert limiter.allow("a", 11)  # 6 a minute: one token back after 10 s
    assert not limiter.allow("a", 11)


def test_every_language_has_every_word_and_the_same_placeholders():
    keys = set(web_texts("en"))
    template = (WEB_DIR / "verify.html.j2").read_text()
    for name in re.findall(r"\bt\.(\w+)", template):
        assert name in keys, name
    for lang in WEB_LANGUAGES:
        texts = web_texts(lang)
        assert set(texts) == keys, lang
        for key, text in texts.items():
            assert re.findall(r"{\w+}", text) == re.findall(r"{\w+}", web_texts("en")[key]), key


async def _stream(*chunks: bytes):
    for c in chunks:
        yield c


async def test_a_multipart_upload_keeps_only_the_file_part_and_refuses_past_the_limit():
    body = (
        b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.7 body\r\n--B--\r\n"
    )
    ctype = "multipart/form-data; boundary=B"
    assert await read_upload(ctype, None, _stream(body[:50], body[50:]), 1000) == b"%PDF-1.7 body"
    for length, chunks in ((str(len(body)), (body,)), (None, (body[:60], body[60:]))):
        try:
            await read_upload(ctype, length, _stream(*chunks), 100)
        except UploadRefused as exc:
            assert exc.reason == "too_large" and exc.status == 413
        else:
            raise AssertionError("not refused")


def test_a_client_is_its_ipv4_address_or_its_ipv6_64() -> None:
    """attack2: one host holds a whole IPv6 /64; counted by address it would have 2^64
    buckets (and 2^64 uploads in progress)."""
    a = client_key("2001:db8:1:2:aaaa::1")
    assert a == client_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert a != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("?") == "?" and client_key("testclient") == "testclient"
    limiter = RateLimiter(per_minute=6, burst=2)
    assert limiter.allow(client_key("2001:db8::1"), 0.0)
    assert limiter.allow(client_key("2001:db8::2"), 0.0)
    assert not limiter.allow(client_key("2001:db8::3"), 0.0)


def test_uploads_in_progress_per_client() -> None:
    inflight = InFlight(per_client=2)
    assert inflight.enter("a") and inflight.enter("a") and not inflight.enter("a")
    assert inflight.enter("b")
    inflight.leave("a")
    assert inflight.enter("a") and not inflight.enter("a")
