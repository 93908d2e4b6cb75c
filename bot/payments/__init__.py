"""Getting paid: PIX BR Code ("copia e cola") and its QR image, the ``PaymentProvider`` port.

``brcode`` is pure (standard library only); ``qr`` draws the QR image; ``provider`` holds
the port every payment adapter implements (docs/payments.md).
"""
