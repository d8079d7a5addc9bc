"""A local stand-in for the Telegram Bot API: records sendMessage calls, can fail or be down."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import free_port


class FakeTelegram:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[dict] = []  # accepted sendMessage bodies, with the token from the path
        self.fail_next = 0  # answer this many requests with HTTP 502 first
        self.refused = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.fail_next > 0:
                    fake.fail_next -= 1
                    fake.refused += 1
                    self._answer(502, {"ok": False, "description": "Bad Gateway"})
                    return
                token = self.path.split("/")[1].removeprefix("bot")
                fake.messages.append(dict(body, token=token, method=self.path.rsplit("/", 1)[-1]))
                self._answer(200, {"ok": True, "result": {"message_id": len(fake.messages)}})

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages]
