"""The `scheduler` command: parse arguments, call the core, print. No business logic here."""

from __future__ import annotations

import os
import sys

import click

from scheduler.cli.base import cli
from scheduler.errors import SchedulerError

__all__ = ["cli", "main"]


def _print_error(error: BaseException) -> None:
    click.echo(f"scheduler: error: {error}", err=True)
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    while cause is not None:
        first_line = (str(cause).splitlines() or [""])[0][:300]
        click.echo(f"  caused by: {type(cause).__name__}: {first_line}", err=True)
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)


def main(argv: list[str] | None = None) -> None:
    # What this program writes (the SQLite database and its -wal and -shm, the Maildir's emails,
    # secret.key, reports) is for its own user only, whatever umask it was started with.
    os.umask(os.umask(0o077) | 0o077)
    try:
        result = cli.main(args=argv, prog_name="scheduler", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except SchedulerError as error:
        _print_error(error)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`| head`): not an error worth a traceback
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


# The commands register themselves on `cli`.
from scheduler.cli import answers, audit, links, operations, plans, reading, tokens, webhooks  # noqa: E402,F401
