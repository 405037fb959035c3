"""A real webhook receiver on loopback for the tests: an http.server in a thread that keeps every
request (headers and body) and answers as told — per path, a list of what to do with the next
requests ("500", "410", "drop": close the connection without answering, "slow:SECONDS"), then 204."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.received: list[tuple[str, dict, str]] = []  # (path, headers lowercased, body) of answered requests
        self.seen: list[str] = []  # the path of every request, answered or not
        self.plans: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode("utf-8")
                with receiver.lock:
                    receiver.seen.append(self.path)
                    plan = receiver.plans.get(self.path) or []
                    todo = plan.pop(0) if plan else "204"
                if todo == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if todo.startswith("slow:"):
                    time.sleep(float(todo[5:]))
                    todo = "204"
                if todo == "204":
                    with receiver.lock:
                        receiver.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(int(todo))
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[tuple[dict, str]]:
        with self.lock:
            return [(headers, body) for p, headers, body in self.received if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
