"""``python -m bench.subgraphs --port 4200``: serve the four benchmark subgraphs."""

from __future__ import annotations

import argparse

import uvicorn

from bench.subgraphs.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the benchmark's four subgraphs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4200)
    parser.add_argument("--no-memoise", action="store_true", help="Execute every request.")
    args = parser.parse_args()
    uvicorn.run(
        create_app(memoise=not args.no_memoise),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
