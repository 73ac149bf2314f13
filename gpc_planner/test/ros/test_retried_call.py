"""An idempotent request is sent again until answered: a request or answer lost to DDS
discovery must neither hang the caller nor be given up after one try."""

from types import SimpleNamespace

from gpc_planner.ros.retried_call import RetriedCall


class Request:
    """A service call in flight: answered when the test says so, or never (lost)."""

    def __init__(self) -> None:
        self.response = None

    def done(self) -> bool:
        return self.response is not None

    def result(self):
        return self.response


def make_call(**kwargs):
    now = [0.0]
    sent: list[Request] = []

    def call() -> Request:
        sent.append(Request())
        return sent[-1]

    return RetriedCall(call, clock=lambda: now[0], resend=1.0, **kwargs), sent, now


def test_a_lost_request_is_sent_again_and_the_first_answer_ends_it():
    request, sent, now = make_call()
    assert request.poll() is False and len(sent) == 1
    now[0] = 0.9
    assert request.poll() is False and len(sent) == 1  # still within the resend time
    now[0] = 1.0
    request.poll()
    assert len(sent) == 2 and request.sent == 2
    sent[0].response = SimpleNamespace(results=["late"])  # the first answer arrives late:
    now[0] = 1.5                                          # only the latest one is watched
    assert request.poll() is False
    sent[1].response = SimpleNamespace(results=["ok"])
    assert request.poll() is True and request.response.results == ["ok"]
    now[0] = 10.0
    assert request.poll() is True and len(sent) == 2  # answered: never sent again


def test_an_answer_turned_down_is_asked_again_at_once():
    request, sent, now = make_call(accept=lambda r: r is not None and r.success)
    request.poll()
    sent[0].response = SimpleNamespace(success=False)
    now[0] = 0.1
    assert request.poll() is False and len(sent) == 2
    sent[1].response = SimpleNamespace(success=True)
    assert request.poll() is True and request.done


def make_resumer():
    from gpc_planner.ros.launcher import SimResumer

    now = [0.0]
    sent: list[Request] = []

    def call() -> Request:
        sent.append(Request())
        return sent[-1]

    return SimResumer(call, clock=lambda: now[0], resend=1.0), sent, now


def test_the_launcher_asks_the_sim_to_run_only_once_the_planner_is_up_and_until_it_does():
    """A lost resume request once left the sim paused for good in a real-time run."""
    resumer, sent, now = make_resumer()
    resumer.poll()
    assert sent == []  # the planner is not up yet
    resumer.wanted = True
    resumer.poll()
    now[0] = 1.2
    resumer.poll()
    assert len(sent) == 2  # the first was lost: ask again
    sent[1].response = SimpleNamespace(success=False)  # a refusal: at once again
    now[0] = 1.3
    resumer.poll()
    assert len(sent) == 3 and not resumer.done
    sent[2].response = SimpleNamespace(success=True)
    now[0] = 9.0
    resumer.poll()
    resumer.poll()
    assert resumer.done and len(sent) == 3
