# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""An asyncio TCP echo server and its clients on one evpoll event loop.

    python3 -m evpoll.echo [CLIENTS [MESSAGES]]

Serves on 127.0.0.1 (a free port), connects CLIENTS clients (default 50)
that each send MESSAGES lines (default 20) and check every echo, all in
one asyncio.SelectorEventLoop(evpoll.EvpollSelector()).  Prints what the
loop's selector fd is (/dev/evpoll) and exits 0 if every echo came back.
"""

import asyncio
import os
import sys

import evpoll


async def _handle(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _client(port, n, messages):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(messages):
        msg = b"client %d message %d\n" % (n, i)
        writer.write(msg)
        if await reader.readline() != msg:
            raise AssertionError("client %d: bad echo of message %d" % (n, i))
    writer.close()
    await writer.wait_closed()
    return messages


async def _main(clients, messages):
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        done = await asyncio.wait_for(asyncio.gather(
            *(_client(port, n, messages) for n in range(clients))), 60)
    return sum(done)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    clients = int(argv[0]) if argv else 50
    messages = int(argv[1]) if len(argv) > 1 else 20
    selector = evpoll.EvpollSelector()
    dev = os.readlink("/proc/self/fd/%d" % selector.fileno())
    loop = asyncio.SelectorEventLoop(selector)
    try:
        echoed = loop.run_until_complete(_main(clients, messages))
    finally:
        loop.close()
    ok = echoed == clients * messages and dev == "/dev/evpoll"
    print("evpoll.echo: asyncio loop on %s (%s): %d clients, %d of %d "
          "messages echoed: %s" % (dev, type(selector).__name__, clients,
                                   echoed, clients * messages,
                                   "ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
