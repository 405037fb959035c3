"""The embedded default: each message becomes an .eml file in a Maildir (`new/`), written the
Maildir way (into `tmp/`, then renamed) so a reader never sees half a file."""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Sequence
from email.policy import SMTP
from pathlib import Path

from scheduler.transport.base import Delivery, Message, Outgoing, TransportError

_counter = itertools.count()


class MaildirTransport:
    name = "maildir"

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _deliver_one(self, message: Message) -> Path:
        # The Maildir and its three folders, in an existing folder (`scheduler.folders`): nothing above it.
        from scheduler.folders import under_default

        self.root.mkdir(parents=under_default(self.root), exist_ok=True)
        for sub in ("tmp", "new", "cur"):
            (self.root / sub).mkdir(exist_ok=True)
        unique = f"{time.time_ns()}.P{os.getpid()}Q{next(_counter)}.{socket.gethostname().replace('/', '_')}.eml"
        temporary = self.root / "tmp" / unique
        with open(temporary, "wb") as handle:
            handle.write(message.data if isinstance(message, Outgoing) else message.as_bytes(policy=SMTP))
            handle.flush()
            os.fsync(handle.fileno())
        final = self.root / "new" / unique
        os.rename(temporary, final)
        return final

    async def deliver(self, messages: Sequence[Message]) -> list[Delivery]:
        results = []
        for message in messages:
            try:
                self._deliver_one(message)
                results.append(Delivery(message))
            except OSError as error:
                results.append(Delivery(message, TransportError(f"maildir {self.root}: {error}", transient=True)))
            except Exception as error:  # noqa: BLE001 - a message that cannot be written fails alone
                results.append(Delivery(message, TransportError(
                    f"cannot write the message: {error.__class__.__name__}: {error}", transient=False)))
        return results
