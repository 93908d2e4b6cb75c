"""Service layer: carries out the decisions of the pure core with storage, channels and Rasa."""
