"""Carries out the debtor's commands: loads the facts, asks the pure core, stores the result.

One command runs in one database transaction. Replies are template keys with
plain variables; the app renders them for the debtor's locale.
"""
