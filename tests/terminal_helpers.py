"""Helpers for the terminal tests: a WebSocket terminal client that reads until it sees something."""
from __future__ import annotations

import asyncio
import json
import re
import time

import aiohttp
from aiohttp import WSMsgType

from conftest import TEST_PASSWORD


def same_origin(cli) -> dict:
    return {"Origin": f"http://{cli.host}:{cli.port}"}


def plain_shell_settings(**terminal) -> dict:
    """A predictable bash: no rc files, a short prompt, plus any extra ``[Terminal]`` keys."""
    values = {"shell_command": "/bin/bash --noprofile --norc"}
    values.update({k: str(v) for k, v in terminal.items()})
    return {"Terminal": values}


async def token(cli) -> str:
    resp = await cli.post("/holaf/terminal/auth", json={"password": TEST_PASSWORD}, headers=same_origin(cli))
    assert resp.status == 200, await resp.text()
    return (await resp.json())["session_token"]


class Term:
    """A connected terminal socket: collects output and control messages."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.output = bytearray()
        self.messages: list[dict] = []
        self.closed = False
        self.hello: dict | None = None

    @classmethod
    async def open(cls, cli, query: str = "", *, headers: dict | None = None) -> "Term":
        ws = await cli.ws_connect(f"/holaf/terminal{query}", headers=headers or same_origin(cli))
        term = cls(ws)
        term.hello = await term.wait_message("session")
        return term

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    async def _pump(self, timeout: float) -> bool:
        """Read one frame; False when the socket is closed."""
        try:
            msg = await self.ws.receive(timeout=timeout)
        except asyncio.TimeoutError:
            return True
        if msg.type == WSMsgType.BINARY:
            self.output += msg.data
        elif msg.type == WSMsgType.TEXT:
            self.messages.append(json.loads(msg.data))
        else:
            self.closed = True
            return False
        return True

    async def wait_for(self, pattern: str, timeout: float = 10.0) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.text)
            if match:
                return match
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not seen within {timeout} s; output so far:\n{self.text[-2000:]}")
            await self._pump(min(0.5, max(0.01, deadline - time.monotonic())))

    async def wait_message(self, kind: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if message.get("type") == kind:
                    self.messages.remove(message)
                    return message
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"no {kind!r} message within {timeout} s; got {self.messages}")
            await self._pump(min(0.5, max(0.01, deadline - time.monotonic())))

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while not self.closed:
            if time.monotonic() > deadline:
                raise AssertionError("socket still open")
            await self._pump(0.2)
        return self.ws.close_code

    async def send(self, message: dict) -> None:
        await self.ws.send_str(json.dumps(message))

    async def type(self, text: str) -> None:
        await self.send({"type": "input", "data": text})

    async def run(self, command: str, marker: str, timeout: float = 10.0) -> re.Match:
        """Type a command and wait for ``marker`` (a regex that only the command's output can produce)."""
        await self.type(command + "\r")
        return await self.wait_for(marker, timeout)

    async def close(self) -> None:
        await self.ws.close()
