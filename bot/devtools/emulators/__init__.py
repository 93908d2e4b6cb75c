"""Local emulators of the Telegram Bot API and the Twilio REST API (tests and benchmarks).

Both speak the providers' wire format on 127.0.0.1, record every request with a
timestamp, inject 429s, 5xx and timeouts on demand, honour idempotency keys, and
check the global and per-chat rates they observe.
"""
