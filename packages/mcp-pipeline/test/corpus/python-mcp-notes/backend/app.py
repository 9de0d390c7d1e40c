"""Notes backend: a JSON HTTP API on :8080, notes in memory."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

notes: list[dict] = []
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, {"status": "ok"})
        elif self.path == "/notes":
            with lock:
                self._send(200, list(notes))
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path != "/notes":
            self._send(404, {"error": "not found"})
            return
        text = json.loads(self.rfile.read(int(self.headers["content-length"])))["text"]
        with lock:
            note = {"id": len(notes) + 1, "text": text}
            notes.append(note)
        self._send(201, note)

    def log_message(self, *_args) -> None:
        pass


ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
