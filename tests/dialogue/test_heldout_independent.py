"""The held-out NLU sets stay out of the training data, and the hard-case set is big enough."""

from __future__ import annotations

from bot.devtools.heldout_sets import (
    Example,
    load_examples,
    normalized,
    training_overlap,
    training_texts,
)
from bot.devtools.nlu_eval import KNOWN_OVERLAP


def test_normalized_form() -> None:
    assert normalized("Já  PAGUEI!! 🧾 [ontem](date)") == "ja paguei ontem"


def test_no_held_out_text_is_in_the_training_data() -> None:
    overlap = training_overlap(load_examples(), training_texts())
    assert set(overlap) <= KNOWN_OVERLAP, overlap


def test_the_check_finds_copies_and_near_copies() -> None:
    training = ["o comprovante é o TED 88213 do dia 2", "quanto eu devo?"]
    examples = [Example("Quanto eu DEVO", "ask_debt_details", "pt", False, hard=False),
                Example("o comprovante e o ted 5510 do dia 9", "already_paid", "pt", False,
                        hard=True),
                Example("o comprovante chegou?", "already_paid", "pt", False, hard=True)]
    found = training_overlap(examples, training)
    assert len(found) == 2 and "in training" in found[0] and "near-duplicate" in found[1]


def test_hard_set_size_and_two_request_messages() -> None:
    hard = [e for e in load_examples() if e.hard]
    assert len(hard) >= 150
    assert {e.language for e in hard} == {"pt", "en"}
    assert sum(1 for e in hard if e.second) >= 20
    for intent in ("wrong_person", "request_callback_later", "promise_to_pay", "ask_identity"):
        assert sum(1 for e in hard if e.intent == intent) >= 20, intent
