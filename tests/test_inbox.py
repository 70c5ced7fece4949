"""The staff inbox query: views, filters, search, sorting, paging, counts and deadline states,
from task rows only. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import BadRequest
from engine.identity import SYSTEM, Principal
from engine.process_engine import ProcessEngine
from engine.services.inbox import InboxQuery, priority_band
from tests.conftest import FIXTURES

# Tuesday 2026-12-01 10:00 in Riga: a working day, so "due soon" (one working day) ends Wednesday 10:00.
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KLARA = Principal("klara", frozenset({"kac"}))
KARLIS = Principal("karlis", frozenset({"kac"}))
ILZE = Principal("ilze", frozenset({"l2"}))


@pytest.fixture
def inbox_engine(settings):
    engine = ProcessEngine(settings, clock=ManualClock(NOW))
    engine.deployments.deploy({"inbox_work.bpmn": (FIXTURES / "inbox_work.bpmn").read_bytes()}, principal=SYSTEM)
    yield engine
    engine.close()


def start(engine, key="inbox_darbs", business_key=None, **variables):
    engine.instances.start(SYSTEM, key=key, business_key=business_key, variables=variables)


def ids_of(page):
    return [item.business_key for item in page.items]


def test_deadline_states_priority_bands_and_sorting(inbox_engine):
    start(
        inbox_engine,
        business_key="PIE-1",
        temats="Printeris nedarbojas",
        termins=(NOW - timedelta(hours=1)).isoformat(),
        prio=50,
    )
    start(
        inbox_engine,
        business_key="PIE-2",
        temats="Ūdens noplūde serverītelpā",
        termins=(NOW + timedelta(hours=5)).isoformat(),
        prio=90,
    )
    start(
        inbox_engine, business_key="PIE-3", temats="Jauns konts", termins=(NOW + timedelta(days=6)).isoformat(), prio=30
    )
    start(inbox_engine, business_key="PIE-4", temats="Bez termiņa", termins=None, prio=70)

    page = inbox_engine.inbox.page(KLARA, InboxQuery())
    assert ids_of(page) == ["PIE-1", "PIE-2", "PIE-3", "PIE-4"], "by due date, tasks without one last"
    states = {i.business_key: (i.deadline_state, i.priority_band, i.subject) for i in page.items}
    assert states == {
        "PIE-1": ("overdue", "medium", "Printeris nedarbojas"),
        "PIE-2": ("soon", "critical", "Ūdens noplūde serverītelpā"),
        "PIE-3": ("on_time", "low", "Jauns konts"),
        "PIE-4": ("none", "high", "Bez termiņa"),
    }
    assert page.counts == {"mine": 0, "group": 4, "all": 4, "overdue": 1, "soon": 1}
    assert ids_of(inbox_engine.inbox.page(KLARA, InboxQuery(sort="priority"))) == ["PIE-2", "PIE-4", "PIE-1", "PIE-3"]

    by = lambda **kw: ids_of(inbox_engine.inbox.page(KLARA, InboxQuery(**kw)))  # noqa: E731
    assert by(deadline="overdue") == ["PIE-1"]
    assert by(deadline="soon") == ["PIE-2"]
    assert by(deadline="on_time") == ["PIE-3"]
    assert by(deadline="none") == ["PIE-4"]
    assert by(priority="critical") == ["PIE-2"] and by(priority="low") == ["PIE-3"]
    # Search: business key or subject, any case, Latvian letters included, LIKE wildcards taken literally.
    assert by(search="pie-3") == ["PIE-3"]
    assert by(search="ūDENS") == ["PIE-2"]
    assert by(search="%") == [] and by(search="_") == []
    assert by(search="  ") == ["PIE-1", "PIE-2", "PIE-3", "PIE-4"]


def test_views_follow_claims_and_groups(inbox_engine):
    start(inbox_engine, business_key="A", temats="a", termins=None, prio=50)
    start(inbox_engine, key="inbox_cits", business_key="B")
    [a] = [i for i in inbox_engine.inbox.page(KLARA, InboxQuery()).items if i.business_key == "A"]
    inbox_engine.tasks.claim(KLARA, a.id, "klara")

    assert ids_of(inbox_engine.inbox.page(KLARA, InboxQuery(view="mine"))) == ["A"]
    assert ids_of(inbox_engine.inbox.page(KLARA, InboxQuery(view="group"))) == ["B"]
    assert ids_of(inbox_engine.inbox.page(KARLIS, InboxQuery())) == ["B"], "a colleague's claimed task is not offered"
    assert ids_of(inbox_engine.inbox.page(ILZE, InboxQuery())) == ["B"], "only tasks for the user's groups"
    page = inbox_engine.inbox.page(KLARA, InboxQuery())
    assert page.counts["mine"] == 1 and page.counts["group"] == 1
    assert ids_of(inbox_engine.inbox.page(KLARA, InboxQuery(process="inbox_cits"))) == ["B"]


def test_paging(inbox_engine):
    for n in range(23):
        start(
            inbox_engine,
            business_key=f"K-{n:02}",
            temats="t",
            termins=(NOW + timedelta(hours=n + 1)).isoformat(),
            prio=50,
        )
    first = inbox_engine.inbox.page(KLARA, InboxQuery(page_size=10))
    last = inbox_engine.inbox.page(KLARA, InboxQuery(page_size=10, page=3))
    assert (first.total, first.pages, len(first.items)) == (23, 3, 10)
    assert ids_of(last) == ["K-20", "K-21", "K-22"]
    beyond = inbox_engine.inbox.page(KLARA, InboxQuery(page_size=10, page=9))
    assert beyond.page == 3 and ids_of(beyond) == ids_of(last), "a page past the end shows the last one"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        (InboxQuery(view="everyone"), "view"),
        (InboxQuery(sort="name"), "sort"),
        (InboxQuery(priority="urgent"), "priority"),
        (InboxQuery(deadline="late"), "deadline"),
        (InboxQuery(page=0), "page"),
        (InboxQuery(page_size=1000), "page_size"),
    ],
)
def test_bad_queries_are_refused_by_name(inbox_engine, query, named):
    with pytest.raises(BadRequest) as refused:
        inbox_engine.inbox.page(KLARA, query)
    assert refused.value.message.startswith(named)


def test_priority_bands_cover_every_priority():
    assert [priority_band(p) for p in (100, 80, 79, 60, 59, 50, 40, 39, 0, -5)] == [
        "critical",
        "critical",
        "high",
        "high",
        "medium",
        "medium",
        "medium",
        "low",
        "low",
        "low",
    ]
