"""The time a sweep has left: the mean wall time of its finished runs × the runs still to come; runs skipped
for an absent device count as done, never as a sample."""

from vidbench.run.eta import Eta


def test_the_estimate_is_the_finished_runs_mean_time_the_runs_left():
    eta = Eta(6)
    assert eta.seconds() is None and eta.text() == ""  # nothing finished: nothing to estimate from
    eta.finished("skipped", 0.0)
    eta.finished("skipped", None)
    assert eta.seconds() is None  # instant skips are not a rate
    eta.finished("ok", 30.0)
    eta.finished("crashed", 90.0)  # a failed run took its time too
    assert eta.seconds() == 60.0 * 2 and eta.text() == "ETA 2 min"
    eta.finished("ok", 60.0)
    assert eta.seconds() == 60.0 and eta.text() == "ETA 60 s"
    eta.finished("ok", 60.0)
    assert eta.seconds() == 0 and eta.text() == ""


def test_long_sweeps_read_in_hours():
    eta = Eta(101)
    eta.finished("ok", 600.0)
    assert eta.text() == "ETA 16.7 h"
