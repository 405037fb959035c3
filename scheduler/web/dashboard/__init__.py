"""The secretariat's dashboard (`/`): who is late, deadlines found by agency, item, state, period
and words, the month's calendar and a day's full list, the year's compliance with its charts and
downloads; each agency's page (`/agencies/<code>`); recording a submission (each occurrence's page:
web/review/). In the page's language (web/dashboard/view.py says what the pages show). One module
per page.

For a signed-in member of the secretariat (admin, reviewer, observer), whether or not an admin
credential is set; a signed-in person who is not staff gets 403 and a link to her own page, and a
browser without a session is sent to the sign-in page (web/auth.py). Scripts may send HTTP Basic
with the admin credential from the environment (SCHEDULER_ADMIN_PASSWORD); web/guard.py guards it
and the forms.
"""

from __future__ import annotations

from starlette.routing import Route

from scheduler.web.dashboard.agency import agency_page
from scheduler.web.dashboard.common import PageCache
from scheduler.web.dashboard.compliance import download
from scheduler.web.dashboard.home import home
from scheduler.web.dashboard.submit import submit

__all__ = ["PageCache", "routes"]

routes = [
    Route("/", home, methods=["GET"]),
    Route("/agencies/{code}", agency_page, methods=["GET"]),
    Route("/occurrences/{occurrence_id:path}/submit", submit, methods=["POST"]),
    Route("/report/{year:int}.{fmt:str}", download, methods=["GET"]),
]
