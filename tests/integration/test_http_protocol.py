"""The request-head deadline and the cap on connections waiting for a head (web/protocol.py), on a
real uvicorn over loopback with short limits."""

import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scheduler.web.protocol import guarded_h11
from tests.smtp import free_port


async def hello(request):
    return PlainTextResponse("hello")


@pytest.fixture
def server():
    running = []

    def start(**limits) -> int:
        port = free_port()
        app = Starlette(routes=[Route("/", hello)])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                               http=guarded_h11(**limits), timeout_keep_alive=60))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        running.append((server, thread))
        return port

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(4096) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def get(sock: socket.socket) -> bytes:
    """One whole response (head and body) to a request on `sock`."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while not answer.endswith(b"hello"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def test_a_head_that_does_not_arrive_in_time_closes_the_connection(server):
    port = server(head_timeout=1.0)
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(b"GET / HT")
    slow_second = socket.create_connection(("127.0.0.1", port))
    assert get(slow_second).startswith(b"HTTP/1.1 200")  # a first request in time…
    slow_second.sendall(b"GET / HT")  # …and half of a second one, on the same connection
    time.sleep(0.5)
    prompt = socket.create_connection(("127.0.0.1", port))
    assert get(prompt).startswith(b"HTTP/1.1 200"), "a connection that sends its request in time is served"
    assert closed_by_server(stalled, within=5) and closed_by_server(slow_second, within=5)
    for sock in (stalled, slow_second, prompt):
        sock.close()


def test_past_the_cap_the_longest_waiting_connection_makes_room(server):
    port = server(head_timeout=60.0, max_waiting=3)
    stalled = []
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET / HT")
        stalled.append(sock)
        time.sleep(0.05)  # in order of arrival
    assert closed_by_server(stalled[0], within=5) and closed_by_server(stalled[1], within=5)
    assert not closed_by_server(stalled[4], within=0.3)
    fresh = socket.create_connection(("127.0.0.1", port))
    assert get(fresh).startswith(b"HTTP/1.1 200")
    assert closed_by_server(stalled[2], within=5), "the newcomer took the place of the oldest"
    for sock in [*stalled, fresh]:
        sock.close()
