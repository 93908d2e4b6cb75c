"""Pure negotiation core: money, balances, offers, the concession ladder and the state machine.

Imports only the standard library and pydantic. No I/O, no clock reads (today's date is
passed in), no asyncio. It returns decisions as data; the service layer carries them out.
"""
