# SPDX-License-Identifier: GPL-2.0
"""Bounded asyncio echo over loopback, to run under libevpoll-preload.so.

    python3 asyncio_echo.py [REQUESTS [CONNECTIONS]]

A server and CONNECTIONS clients in one event loop (asyncio's default
selector is selectors.EpollSelector, i.e. epoll_create1/epoll_ctl/
epoll_wait from the C library).  Each client sends its share of REQUESTS
lines and checks every echoed line.  Prints "ok ..." and exits 0 when all
replies were right and the loop's epoll fd is /dev/evpoll; exits 1
otherwise.  Stops by itself: the whole run is bounded by LIMIT seconds.
"""
import asyncio
import os
import selectors
import sys
import time

LIMIT = 240.0


async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, ids):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in ids:
        msg = ("req %d %s\n" % (i, "x" * (i % 300))).encode()
        writer.write(msg)
        await writer.drain()
        got = await reader.readline()
        if got != msg:
            raise RuntimeError("request %d: sent %r, got %r" % (i, msg, got))
    writer.close()
    await writer.wait_closed()
    return len(ids)


async def main(nreq, nconn):
    loop = asyncio.get_running_loop()
    sel = loop._selector
    if not isinstance(sel, selectors.EpollSelector):
        print("FAIL: the loop's selector is %s" % type(sel).__name__)
        return 1
    fd = sel._selector.fileno()
    link = os.readlink("/proc/self/fd/%d" % fd)
    print("selector fd %d -> %s" % (fd, link), flush=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    t0 = time.monotonic()
    shares = [list(range(k, nreq, nconn)) for k in range(nconn)]
    done = await asyncio.wait_for(
        asyncio.gather(*(client(port, s) for s in shares)), LIMIT)
    server.close()
    await server.wait_closed()
    total = sum(done)
    dt = time.monotonic() - t0
    if total != nreq:
        print("FAIL: %d of %d requests answered" % (total, nreq))
        return 1
    if link != "/dev/evpoll":
        print("FAIL: %d requests fine, but not on /dev/evpoll (%s)"
              % (total, link))
        return 1
    print("ok %d requests over %d connections in %.2f s, selector %s"
          % (total, nconn, dt, link))
    return 0


if __name__ == "__main__":
    nreq = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    nconn = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    sys.exit(asyncio.run(main(nreq, nconn)))
