"""Reports: the compliance table (per agency, on time, late, missing).

`from scheduler import report; report.compliance(...)` keeps working: the compliance names are
re-exported here.
"""

from scheduler.report.compliance import (
    COLUMNS,
    AgencyCompliance,
    Owed,
    as_csv,
    as_html,
    as_xlsx,
    compliance,
    total,
    working_days_late,
    year_outside,
)

__all__ = [
    "COLUMNS",
    "AgencyCompliance",
    "Owed",
    "as_csv",
    "as_html",
    "as_xlsx",
    "compliance",
    "total",
    "working_days_late",
    "year_outside",
]
