"""Signing in to the web UI: wrong passwords, and repeated failures slowed down per user name and
per client address, across server processes (counted in the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import TooManyAttempts, Unauthorized
from engine.process_engine import ProcessEngine
from engine.services.sign_in import ThrottlePolicy
from tests.conftest import PASSWORD

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
def sign_in(settings, clock):
    engine = ProcessEngine(settings, clock=clock)
    engine.users.create_user("klara", PASSWORD, groups=["kac"])
    yield engine.sign_in
    engine.close()


def test_right_password_signs_in_and_wrong_one_is_refused(sign_in):
    principal = sign_in.sign_in("klara", PASSWORD, "10.0.0.1")
    assert principal.user_id == "klara" and principal.groups == {"kac"}
    for user, password in (("klara", "wrong-password"), ("nobody", PASSWORD), ("", PASSWORD), ("klara", "")):
        with pytest.raises(Unauthorized) as refused:
            sign_in.sign_in(user, password, "10.0.0.1")
        assert not isinstance(refused.value, TooManyAttempts)
        assert refused.value.message == "Invalid user name or password", "the same answer for every reason"


def test_repeated_failures_block_the_user_name_for_a_doubling_time(sign_in, clock):
    for _ in range(3):
        with pytest.raises(Unauthorized):
            sign_in.sign_in("klara", "wrong-password", "10.0.0.1")
    with pytest.raises(Unauthorized):
        sign_in.sign_in("Klara", "wrong-password", "10.0.0.2")  # fourth failure: blocked for 2 s
    with pytest.raises(TooManyAttempts) as blocked:
        sign_in.sign_in("klara", PASSWORD, "10.0.0.3")
    assert blocked.value.retry_after == 2, "while blocked even the right password is not checked"
    clock.advance(timedelta(seconds=2))
    with pytest.raises(Unauthorized):
        sign_in.sign_in("klara", "wrong-password", "10.0.0.1")  # fifth: 4 s
    with pytest.raises(TooManyAttempts) as blocked:
        sign_in.sign_in("klara", PASSWORD, "10.0.0.1")
    assert blocked.value.retry_after == 4
    clock.advance(timedelta(seconds=4))
    assert sign_in.sign_in("klara", PASSWORD, "10.0.0.1").user_id == "klara"
    # Success clears the count: the next failure is free again.
    with pytest.raises(Unauthorized) as refused:
        sign_in.sign_in("klara", "wrong-password", "10.0.0.1")
    assert not isinstance(refused.value, TooManyAttempts)
    assert sign_in.sign_in("klara", PASSWORD, "10.0.0.1").user_id == "klara"


def test_one_address_guessing_many_user_names_is_blocked(sign_in, clock):
    for n in range(20):
        with pytest.raises(Unauthorized):
            sign_in.sign_in(f"user{n}", "wrong-password", "203.0.113.9")
    with pytest.raises(Unauthorized):
        sign_in.sign_in("user20", "wrong-password", "203.0.113.9")
    with pytest.raises(TooManyAttempts):
        sign_in.sign_in("klara", PASSWORD, "203.0.113.9")
    assert sign_in.sign_in("klara", PASSWORD, "10.0.0.1").user_id == "klara", "other addresses are not blocked"


def test_a_second_server_process_sees_the_same_block(settings, sign_in, clock):
    other = ProcessEngine(settings, clock=clock)
    try:
        for _ in range(4):
            with pytest.raises(Unauthorized):
                sign_in.sign_in("klara", "wrong-password", None)
        with pytest.raises(TooManyAttempts):
            other.sign_in.sign_in("klara", PASSWORD, None)
    finally:
        other.close()


def test_delay_policy_is_capped():
    policy = ThrottlePolicy()
    assert policy.delay(3, 3) is None
    assert [policy.delay(n, 3).total_seconds() for n in (4, 5, 6)] == [2, 4, 8]
    assert policy.delay(40, 3) == timedelta(minutes=15)
