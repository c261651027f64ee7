"""The classic asyncio + aiohttp fetcher, limited by an asyncio.Semaphore.

    .venv/bin/python bench/clients/aiohttp_client.py --urls FILE --concurrency N \
        --session {per-request,shared}

per-request: a new ClientSession for every URL, as the snippet is usually written.
shared:      one ClientSession for the whole run (keep-alive connections reused), its
             connector's limit raised to N so the semaphore, not the default pool of
             100, is what bounds the concurrency.

One task per URL, all created up front and gathered; each reads its body whole.
Prints one JSON line: requests, ok, errors, and the loop's own wall and CPU seconds.
"""

import argparse
import asyncio
import json
import resource
import time

import aiohttp


async def fetch(session: aiohttp.ClientSession, url: str, sem: asyncio.Semaphore) -> bool:
    async with sem:
        try:
            async with session.get(url) as resp:
                await resp.read()
                return resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return False


async def fetch_own_session(url: str, sem: asyncio.Semaphore) -> bool:
    async with sem:
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(url) as resp:
                    await resp.read()
                    return resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return False


async def run(urls: list[str], concurrency: int, mode: str) -> list[bool]:
    sem = asyncio.Semaphore(concurrency)
    if mode == "per-request":
        return await asyncio.gather(*(fetch_own_session(u, sem) for u in urls))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await asyncio.gather(*(fetch(session, u, sem) for u in urls))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", required=True)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--session", choices=["per-request", "shared"], default="shared")
    args = parser.parse_args()
    with open(args.urls, encoding="utf-8") as f:
        urls = [line.strip() for line in f if line.strip()]

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    results = asyncio.run(run(urls, args.concurrency, args.session))
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    ok = sum(1 for r in results if r)
    print(
        json.dumps(
            {
                "requests": len(urls),
                "ok": ok,
                "errors": len(urls) - ok,
                "wallSec": wall,
                "userSec": r1.ru_utime - r0.ru_utime,
                "sysSec": r1.ru_stime - r0.ru_stime,
            }
        )
    )


if __name__ == "__main__":
    main()
