"""Lists in the plan's order, as the database pages them: an SQL expression giving each stored
row's position among the plan's rows (1, 2, …, 8, 8.1 … 8.5, 9, … 36, then the resolution's
paragraphs), by `plan_order` — the order the emails list rows in. The obligations are read from
the store's index (a few dozen probes), so that a page cut by LIMIT/OFFSET cuts the list as
people read it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import case, literal, text

from scheduler.store.tables import OccurrenceRow

# The obligations the stored rows name, one index probe each (as sync reads them).
_OBLIGATIONS = text(
    "WITH RECURSIVE named(obligation) AS ("
    " SELECT min(obligation) FROM occurrence"
    " UNION ALL SELECT (SELECT min(obligation) FROM occurrence WHERE obligation > named.obligation)"
    " FROM named WHERE named.obligation IS NOT NULL)"
    " SELECT obligation FROM named WHERE obligation IS NOT NULL")


def plan_position(connection, column=None):
    """An SQL expression: the position of the row's obligation in the plan's order (0-based)."""
    from scheduler.notify.compose import plan_order

    column = OccurrenceRow.__table__.c.obligation if column is None else column
    named = sorted((row[0] for row in connection.execute(_OBLIGATIONS)), key=plan_order)
    if not named:
        return literal(0)
    return case({name: n for n, name in enumerate(named)}, value=column, else_=len(named))
