"""Opens N concurrent streaming chat requests through the gateway and holds them open.

Usage: open_streams.py N HOST PORT PID. Waits until every stream has delivered its first event, then
prints the gateway's resident memory (VmRSS of PID) and exits, closing all streams.
Environment: GATEHOUSE_KEY.
"""

import asyncio
import json
import os
import sys

BODY = json.dumps({"model": "fixture-small", "stream": True, "messages": [{"role": "user", "content": "hi"}]})


async def stream(host, port, key, opened):
    reader, writer = await asyncio.open_connection(host, port)
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n{BODY}"
    )
    writer.write(request.encode())
    await writer.drain()
    while True:
        line = await reader.readline()
        if line.startswith(b"data:") or not line:
            break
    opened.append(line.startswith(b"data:"))
    return writer


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def main():
    count, host, port, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    key = os.environ["GATEHOUSE_KEY"]
    before = rss_kib(pid)
    opened = []
    writers = await asyncio.gather(*(stream(host, port, key, opened) for _ in range(count)))
    await asyncio.sleep(0.5)
    during = rss_kib(pid)
    print(f"open streams {sum(opened)} of {count}; gateway RSS before {before / 1024:.1f} MiB, "
          f"with all open {during / 1024:.1f} MiB")
    for writer in writers:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
