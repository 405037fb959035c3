"""Reports: the compliance table (per agency, on time, late, missing) and the consolidated
implementation report (per plan row, each body's information) that paragraphs 3.2 and 4 of the
resolution ask for, written by `consolidated_docx` and `consolidated_xlsx`.

`from scheduler import report; report.compliance(...)` keeps working: the compliance names are
re-exported here.
"""

from scheduler.report.compliance import (
    COLUMNS,
    CSV_COLUMNS,
    SHOWN,
    AgencyCompliance,
    Item,
    Owed,
    as_csv,
    as_html,
    as_xlsx,
    body_name,
    compliance,
    total,
    working_days_late,
    year_outside,
)
from scheduler.report.consolidated import Answer, Consolidated, consolidate, unanswered

__all__ = [
    "COLUMNS",
    "CSV_COLUMNS",
    "SHOWN",
    "AgencyCompliance",
    "Answer",
    "Consolidated",
    "Item",
    "Owed",
    "as_csv",
    "as_html",
    "as_xlsx",
    "body_name",
    "compliance",
    "consolidate",
    "total",
    "unanswered",
    "working_days_late",
    "year_outside",
]
