# Peer for bench/net_compare.ts: Python asyncio streams doing the same work
# as weft in one process: a server and clients on 127.0.0.1.
#   python3 net_peer_asyncio.py rr CONNS MS   100 B length-prefixed request/response
# Prints one JSON line: {"ops": N, "seconds": S, "cpu": CPU seconds used}.
import asyncio
import json
import resource
import struct
import sys
import time

mode, count, ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


async def handle(reader, writer):
    try:
        while True:
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            data = await reader.readexactly(length)
            writer.write(struct.pack("!I", length) + data)
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass
    writer.close()


async def client(port, deadline, counter):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    msg = struct.pack("!I", 100) + b"a" * 100
    while time.monotonic() < deadline:
        writer.write(msg)
        await writer.drain()
        (length,) = struct.unpack("!I", await reader.readexactly(4))
        await reader.readexactly(length)
        counter[0] += 1
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    counter = [0]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    deadline = time.monotonic() + ms / 1000
    await asyncio.gather(*(client(port, deadline, counter) for _ in range(count)))
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    server.close()
    await server.wait_closed()
    print(json.dumps({"ops": counter[0], "seconds": seconds, "cpu": cpu}))


asyncio.run(main())
