"""The admin's webhooks page (`/admin/webhooks`): the endpoints and the latest deliveries with their
outcomes, in the admin's language; nobody else's."""

import threading
import time

import uvicorn

from scheduler.app import answer, webhooks
from scheduler.app.hooks_deliver import deliver
from scheduler.clocks import clock
from scheduler.web.app import create_app
from tests.integration.test_delivery import at
from tests.integration.web_client import Client
from tests.integration.webhook_receiver import Receiver
from tests.smtp import free_port

CREDENTIAL = ("admin", "correct horse")


def test_the_admin_sees_endpoints_and_deliveries_with_their_outcomes(make_service, tmp_path):
    service = make_service(f"sqlite:///{tmp_path / 'page.db'}")
    receiver = Receiver()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(lambda: service, lambda: at(12, 10), CREDENTIAL),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        status, _, body = Client(base, CREDENTIAL).get("/admin/webhooks?lang=en")
        assert status == 200 and 'id="no-endpoints"' in body and 'id="no-deliveries"' in body
        webhooks.add(service.engine, receiver.url("/ok"), "answer.submitted", at(12, 1))
        webhooks.add(service.engine, receiver.url("/down"), "answer.submitted", at(12, 1))
        receiver.plans = {"/down": ["500"]}
        answer.submit(service.engine, service.timing, "7:finance:2022", at=at(12, 9), now=at(12, 9))
        deliver(service.engine, at(12, 9, 9, 1), clock)

        status, _, body = Client(base, CREDENTIAL).get("/admin/webhooks?lang=ru")
        assert status == 200 and "Вебхуки" in body and "Последние доставки" in body
        assert receiver.url("/ok") in body and 'data-state="sent"' in body and "доставлено" in body
        assert 'data-state="retry"' in body and "HTTP 500" in body and " ms<" in body
        assert "whsec_" not in body, "never the secrets"
        assert Client(base).get("/admin/webhooks")[0] in (303, 401), "not without signing in"
        assert Client(base, ("admin", "wrong")).get("/admin/webhooks")[0] == 401
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        receiver.close()
