"""``python -m sandbox`` / ``integrations-sandbox``: serve the vendor emulators with uvicorn.

python -m sandbox --host 127.0.0.1 --port 8766 --seed 42 --moodle-size 200 --stripe-size 200
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from sandbox.app import create_app
from sandbox.state import MOODLE_DEFAULT_TOKEN, STRIPE_DEFAULT_KEY, SandboxState

log = logging.getLogger("sandbox")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--moodle-size", type=int, default=200, help="number of Moodle users")
    parser.add_argument("--stripe-size", type=int, default=200, help="number of customers")
    parser.add_argument(
        "--stripe-rate-limit",
        type=float,
        default=None,
        help="Stripe requests/s per key (default 25, Stripe's test-mode limit; 0 = off)",
    )
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    state = SandboxState(args.seed, args.moodle_size, args.stripe_size)
    if args.stripe_rate_limit is not None:
        state.stripe.rate_limit_per_second = args.stripe_rate_limit
    base = f"http://{args.host}:{args.port}"
    state.moodle.site_url = f"{base}/moodle"
    log.info(
        "sandbox: moodle=%s/moodle (token %s) stripe=%s/stripe (key %s) control=%s/_control",
        base,
        MOODLE_DEFAULT_TOKEN,
        base,
        STRIPE_DEFAULT_KEY,
        base,
    )
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
