"""The clocks: the one place that reads the wall clock (`clock`), and the replayed clock of
`run --clock` (`ReplayClock`). Everything else is handed `now`."""

from __future__ import annotations

import datetime as dt


def clock() -> dt.datetime:
    """The only place that reads the wall clock; everything else is handed `now`."""
    return dt.datetime.now(dt.timezone.utc)


class ReplayClock:
    """A clock that starts at `start` and runs `speed` times as fast as the wall clock: `run --clock`
    replays a past stretch of the plan (for training, and to see it at work)."""

    def __init__(self, start: dt.datetime, speed: float, wall=clock):
        self.start, self.speed, self._wall = start, speed, wall
        self._began = wall()

    def __call__(self) -> dt.datetime:
        return (self.start + (self._wall() - self._began) * self.speed).astimezone(dt.timezone.utc)
