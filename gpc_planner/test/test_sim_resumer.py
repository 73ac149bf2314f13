"""The launcher resumes a paused sim until the sim says it runs (a lost request must not
leave the sim paused for good, as it did once in a real-time run)."""

from types import SimpleNamespace

from gpc_planner.ros.launcher import SimResumer


class Request:
    """A service call in flight: answered when the test says so, or never (lost)."""

    def __init__(self) -> None:
        self.response = None

    def done(self) -> bool:
        return self.response is not None

    def result(self):
        return self.response


def make_resumer():
    now = [0.0]
    sent: list[Request] = []

    def call() -> Request:
        sent.append(Request())
        return sent[-1]

    return SimResumer(call, clock=lambda: now[0], resend=1.0), sent, now


def test_nothing_is_asked_before_the_planner_is_up():
    resumer, sent, _ = make_resumer()
    resumer.poll()
    assert sent == []


def test_a_lost_request_is_sent_again_until_one_is_answered():
    resumer, sent, now = make_resumer()
    resumer.wanted = True
    resumer.poll()
    assert len(sent) == 1
    now[0] = 0.5
    resumer.poll()
    assert len(sent) == 1  # still waiting for the first answer
    now[0] = 1.2
    resumer.poll()
    assert len(sent) == 2  # the first was lost: ask again
    sent[1].response = SimpleNamespace(success=True)
    now[0] = 5.0
    resumer.poll()
    resumer.poll()
    assert resumer.done and len(sent) == 2  # answered: never asked again


def test_a_refusal_is_asked_again_at_once():
    resumer, sent, now = make_resumer()
    resumer.wanted = True
    resumer.poll()
    sent[0].response = SimpleNamespace(success=False)
    now[0] = 0.1
    resumer.poll()
    assert len(sent) == 2 and not resumer.done
