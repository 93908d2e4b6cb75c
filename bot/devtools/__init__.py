"""Developer tooling: the Rasa model build and the local stack behind ``make run``."""
