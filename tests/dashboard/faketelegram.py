"""A local stand-in for the Telegram Bot API over real HTTP: records sendMessage calls (which can fail or be
down), and serves what users write through getUpdates as the real API does: long polling that waits up
to `timeout` seconds for an update, and `offset` confirming (forgetting) every update below it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import free_port

FIRST_UPDATE_ID = 700_000_001  # real update ids are large and grow by one


class FakeTelegram:
    def __init__(self, port: int | None = None, *, first_update_id: int = FIRST_UPDATE_ID) -> None:
        self.port = port or free_port()
        self.messages: list[dict] = []  # accepted sendMessage bodies, with the token from the path
        self.fail_next = 0  # answer this many sendMessage requests with HTTP 502 first
        self.refused = 0
        self.polls: list[dict] = []  # every getUpdates request's body, as it came
        self._pending: list[dict] = []  # updates not confirmed by an offset yet
        self.next_update_id = first_update_id  # a restarted API goes on counting
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def say(self, text: str, *, chat_id: int = 42, username: str = "boss") -> int:
        """`username` writes `text` in chat `chat_id`; returns the update's id."""
        with self._changed:
            update_id = self.next_update_id
            self.next_update_id += 1
            self._pending.append({"update_id": update_id, "message": {
                "message_id": update_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id * 10, "is_bot": False, "username": username}}})
            self._changed.notify_all()
        return update_id

    def _get_updates(self, body: dict) -> list[dict]:
        """Forget what `offset` confirms, then wait up to `timeout` s for an update at or past it."""
        offset, timeout = body.get("offset"), float(body.get("timeout", 0))
        deadline = time.monotonic() + timeout
        with self._changed:
            if offset is not None:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            while not self._pending and self._server is not None and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self._pending)

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                method = self.path.rsplit("/", 1)[-1]
                if method == "getUpdates":
                    fake.polls.append(body)
                    self._answer(200, {"ok": True, "result": fake._get_updates(body)})
                    return
                if fake.fail_next > 0:
                    fake.fail_next -= 1
                    fake.refused += 1
                    self._answer(502, {"ok": False, "description": "Bad Gateway"})
                    return
                token = self.path.split("/")[1].removeprefix("bot")
                fake.messages.append(dict(body, token=token, method=method))
                self._answer(200, {"ok": True, "result": {"message_id": len(fake.messages)}})

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the client gave up (a long poll of a stopped dashboard)
                    pass

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            with self._changed:
                self._changed.notify_all()  # long polls answer now
            server.shutdown()
            server.server_close()

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages]
