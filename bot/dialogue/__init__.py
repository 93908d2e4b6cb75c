"""Dialogue: the DialogueEngine port (Rasa over HTTP) and the custom actions Rasa calls."""
