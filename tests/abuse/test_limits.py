from __future__ import annotations

from chatroom.limits import EventWindow, TokenBucket


def test_bucket_burst_then_rate():
    bucket = TokenBucket(rate=20, burst=40, now=0)
    assert all(bucket.allow(0) for _ in range(40))
    assert not bucket.allow(0)
    assert sum(bucket.allow(0.5) for _ in range(20)) == 10  # 20/s for 0.5 s
    assert bucket.allow(100) and bucket.tokens == 39  # refills up to the burst only


def test_flooding_is_refusals_without_a_pause():
    bucket = TokenBucket(rate=1, burst=1, now=0)
    bucket.allow(0)
    t = 0.0
    while t < 10:
        t += 0.1
        bucket.allow(t)
    assert bucket.flooding(t) >= 9.5
    assert bucket.flooding(t + 1.5) == 0.0  # it stopped
    bucket.allow(t + 1.5)  # a token had come back
    bucket.allow(t + 1.5)
    assert bucket.flooding(t + 1.6) < 0.2  # a new flood starts afresh


def test_failure_window():
    window = EventWindow(limit=20, window=60)
    for i in range(19):
        window.record("10.0.0.1", i)
    assert not window.blocked("10.0.0.1", 19)
    window.record("10.0.0.1", 19)
    assert window.blocked("10.0.0.1", 20)
    assert not window.blocked("10.0.0.2", 20)
    assert window.blocked("10.0.0.1", 59.9)
    assert not window.blocked("10.0.0.1", 60)  # the first failure aged out
    window.forgetOld(200)
    assert len(window) == 0
    off = EventWindow(limit=0)
    off.record("x", 0)
    assert not off.blocked("x", 0) and len(off) == 0


def test_a_clock_stepped_back_does_not_drain_the_bucket():
    bucket = TokenBucket(rate=20, burst=40, now=1000)
    bucket.allow(1000)
    assert bucket.allow(500)  # an hour back: still tokens left
    assert bucket.tokens > 30
