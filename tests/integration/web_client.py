"""A small HTTP client for the web tests: cookies kept per client, no redirects followed, forms
urlencoded or multipart."""

from __future__ import annotations

import base64
import contextlib
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from http.cookies import SimpleCookie

import uvicorn


def serve(app, port: int) -> Callable[[], None]:
    """`app` served by uvicorn on loopback `port`, in a thread, once it answers; returns its stop."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return stop


@contextlib.contextmanager
def serving(app, port: int):
    """`app` served on loopback `port` while the block runs; its base URL."""
    stop = serve(app, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self, base: str, auth: tuple[str, str] | None = None):
        self.base, self.auth, self.cookies = base, auth, {}
        self.set_cookies: list[str] = []

    def call(self, path, data=None, headers=None, content_type=None):
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(":".join(self.auth).encode()).decode())
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            with urllib.request.build_opener(NoRedirect).open(request, timeout=20) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        for line in headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(line)
            cookie = SimpleCookie()
            cookie.load(line)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel.value in ("", '""'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return status, {k.lower(): v for k, v in headers.items()}, body

    def get(self, path, **kwargs):
        status, headers, body = self.call(path, **kwargs)
        return status, headers, body.decode("utf-8", "replace")

    def post(self, path, fields, files=(), origin=True):
        """`fields`: (name, value) pairs or a dict; `files`: (field, filename, bytes) triples."""
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        headers = {"Origin": self.base} if origin else {}
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in pairs:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + str(value).encode() + b"\r\n")
        for name, filename, content in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        status, headers, body = self.call(path, data=body, headers=headers,
                                          content_type=f"multipart/form-data; boundary={boundary}")
        return status, headers, body.decode("utf-8", "replace")

    def post_form(self, path, fields, origin=True):
        headers = {"Origin": self.base} if origin else {}
        status, headers, body = self.call(path, data=urllib.parse.urlencode(fields).encode(), headers=headers,
                                          content_type="application/x-www-form-urlencoded")
        return status, headers, body.decode("utf-8", "replace")


def field(page: str, name: str, form_id: str | None = None) -> str:
    """The value of a hidden input in a page (in the form with that id, when given)."""
    if form_id is not None:
        page = page[page.index(f'id="{form_id}"'):]
    return page.split(f'name="{name}" value="')[1].split('"')[0]
