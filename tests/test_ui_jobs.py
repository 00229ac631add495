"""The UI side of jobs: closed sessions are reaped after a grace period; durations read well."""

from ui import jobs


class FakeRuntime:
    def __init__(self, active):
        self.active = set(active)

    def is_active_session(self, session_id):
        return session_id in self.active


def test_an_active_session_is_alive_and_a_gone_one_only_after_the_grace_period(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    runtime, seen = FakeRuntime({"a"}), {}
    assert jobs._owner_alive("a", runtime, seen)
    runtime.active.clear()
    clock[0] += jobs._REAP_AFTER_GONE_SECONDS - 1
    assert jobs._owner_alive("a", runtime, seen)
    clock[0] += 2
    assert not jobs._owner_alive("a", runtime, seen)


def test_a_session_never_seen_gets_the_grace_period_too(monkeypatch):
    clock = [50.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    seen = {}
    assert jobs._owner_alive("new", FakeRuntime(()), seen)
    clock[0] += jobs._REAP_AFTER_GONE_SECONDS + 1
    assert not jobs._owner_alive("new", FakeRuntime(()), seen)


def test_durations_read_as_seconds_or_minutes():
    assert jobs._duration(None) == "unknown"
    assert jobs._duration(4.4) == "4 s"
    assert jobs._duration(125) == "2 min 05 s"


def test_the_loss_figure_draws_validation_dashed():
    logs = [{"epoch": 1, "loss": 2.0, "val_loss": 3.0}, {"epoch": 2, "loss": 1.0, "val_loss": 2.5}]
    figure = jobs.loss_figure(logs)
    assert [trace.name for trace in figure.data] == ["training loss", "validation loss"]
    assert figure.data[1].line.dash == "dash"
    assert list(figure.data[0].y) == [2.0, 1.0]
