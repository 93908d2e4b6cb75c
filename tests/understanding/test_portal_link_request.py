"""The portal link request, read bot-side: many pt-BR and English phrasings, and the
messages that only look like one (a payment link, a broken PIX link, a refusal, a doubt)."""

from __future__ import annotations

import pytest

from bot.understanding.portal_link_request import asks_for_portal_link

ASKS = [
    "me manda o link", "Me manda o link!", "manda o link do portal", "manda o link de novo",
    "pode me mandar o link?", "poderia me enviar o link da página?", "envia o link por favor",
    "me passa o link", "quero o link", "queria o link do portal", "preciso do link",
    "tem algum link?", "tem um site onde eu possa ver?", "qual é o link?", "cadê o link?",
    "onde fica o portal?", "reenvia o link pra mim", "gostaria de receber o link",
    "dá pra ver numa página?", "consigo ver isso pelo site?", "posso acessar no portal?",
    "me manda o endereço da página", "manda o link do portal de pagamento",
    "send me the link", "Send me the link please", "can I see it on a page",
    "can I see it on a page?", "is there a website?", "where is the portal?",
    "what's the link?", "could I have the link?", "can i have the portal link",
    "resend the link", "send me that link again", "I need the link", "give me the url",
    "can I check it online at the website",
]
NOT_ASKS = [
    "o link do pix não abre", "manda o link de pagamento", "me manda o pix",
    "manda o boleto", "qual a chave pix?", "me manda o código do pix", "send me the payment link",
    "can I pay by pix?", "não precisa mandar link", "não quero link nenhum",
    "don't send me links", "no links please", "que link é esse?", "esse link é golpe?",
    "is this link safe?", "what is this link?", "what's that link?", "is that link real?",
    "quanto eu devo?", "quero parcelar",
    "o link não abre", "obrigado", "", "   ", "link", "linkedin", "quero pagar à vista",
    "send me the invoice", "manda o link do cartão", "me manda o link pra pagar",
    "o link expirou, manda outro", "tem link de pagamento?", "where's the payment link?",
    "I want to pay in installments", "o site de vocês caiu?",
]


@pytest.mark.parametrize("text", ASKS)
def test_these_ask_for_the_portal_link(text: str) -> None:
    assert asks_for_portal_link(text), text


@pytest.mark.parametrize("text", NOT_ASKS)
def test_these_do_not(text: str) -> None:
    assert not asks_for_portal_link(text), text


def test_a_long_message_is_read_only_at_its_start() -> None:
    assert not asks_for_portal_link("a" * 600 + " me manda o link")
    assert asks_for_portal_link("me manda o link " + "a" * 600)
