"""Run the sandbox app with uvicorn on 127.0.0.1 in a background thread (tests, scripts).

The listening socket is bound before the thread starts, so ``port=0`` picks a free port and
``url`` reports the real one; ``start()`` returns once uvicorn is accepting connections.

    with SandboxServer() as sandbox:
        httpx.get(f"{sandbox.url}/stripe/v1/balance", auth=("sk_test_sandbox_key", ""))
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from sandbox.app import create_app
from sandbox.state import SandboxState


class SandboxServer:
    """A sandbox listening on ``host:port`` (loopback only by default)."""

    def __init__(
        self, state: SandboxState | None = None, port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.state = state if state is not None else SandboxState()
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SandboxServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (vendors live under /moodle, /stripe)."""
        return f"http://{self.host}:{self.port}"

    @property
    def moodle_url(self) -> str:
        return f"{self.url}/moodle"

    @property
    def stripe_url(self) -> str:
        return f"{self.url}/stripe"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        if self._thread is not None:
            return self
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto is TCP, and without it Nagle + delayed ACK add ~40 ms to every response.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(2048)
        sock.setblocking(False)
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        self.state.moodle.site_url = self.moodle_url
        config = uvicorn.Config(
            create_app(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server = server
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sandbox server failed to start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
