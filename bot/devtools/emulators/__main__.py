"""Run an emulator as its own process: ``python -m bot.devtools.emulators telegram --port 8081``."""

from __future__ import annotations

import argparse

from aiohttp import web

from bot.devtools.emulators.observed import Faults
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.devtools.emulators.twilio import TwilioEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("provider", choices=["telegram", "twilio"])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--rate-5xx", type=float, default=0.0)
    parser.add_argument("--rate-timeout", type=float, default=0.0)
    parser.add_argument("--timeout-delay", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faults = Faults(rate_429=args.rate_429, rate_5xx=args.rate_5xx, rate_timeout=args.rate_timeout,
                    timeout_delay=args.timeout_delay)
    emulator = (TelegramEmulator(faults=faults, seed=args.seed) if args.provider == "telegram"
                else TwilioEmulator(faults=faults, seed=args.seed))
    web.run_app(emulator.app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
