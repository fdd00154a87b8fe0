# Drives a Pinstripe server with Debian's python3-stripe the way a python integration does:
# nested params, auto-paging, search, idempotent retries, errors as exceptions. Prints one JSON
# object of observations for test/python-client.test.ts to assert on.
import json
import sys

import stripe

stripe.api_base = sys.argv[1]
stripe.api_key = sys.argv[2]
stripe.max_network_retries = 0
out = {}

cus = stripe.Customer.create(
    email="py@example.com", name="Py Thon",
    metadata={"plan": "gold", "drop": "me"},
    address={"line1": "1 Main St", "city": "Springfield", "country": "US"},
    preferred_locales=["en", "fr"],
)
out["customer"] = {"id": cus.id, "object": cus.object, "city": cus.address.city, "locales": cus.preferred_locales, "metadata": dict(cus.metadata)}

updated = stripe.Customer.modify(cus.id, metadata={"drop": ""})
out["unset_metadata"] = dict(updated.metadata)

for i in range(4):
    stripe.Customer.create(email="page%d@example.com" % i)
out["auto_paged_emails"] = [c.email for c in stripe.Customer.list(limit=2).auto_paging_iter()]

out["search"] = [c.id for c in stripe.Customer.search(query="email:'py@example.com'").data]

pi = stripe.PaymentIntent.create(
    amount=2000, currency="usd", customer=cus.id, payment_method="pm_card_visa", confirm=True,
    automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
    idempotency_key="py-pay-1", expand=["latest_charge"],
)
again = stripe.PaymentIntent.create(
    amount=2000, currency="usd", customer=cus.id, payment_method="pm_card_visa", confirm=True,
    automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
    idempotency_key="py-pay-1", expand=["latest_charge"],
)
out["payment"] = {"status": pi.status, "same_on_retry": pi.id == again.id, "charge_last4": pi.latest_charge.payment_method_details.card.last4}

try:
    stripe.PaymentIntent.create(
        amount=2000, currency="usd", payment_method="pm_card_chargeDeclinedInsufficientFunds", confirm=True,
        automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
    )
    out["decline"] = None
except stripe.error.CardError as e:
    out["decline"] = {"status": e.http_status, "code": e.code, "decline_code": e.error.decline_code}

try:
    stripe.Customer.create(email="x@example.com", favourite_colour="blue")
    out["unknown_param"] = None
except stripe.error.InvalidRequestError as e:
    out["unknown_param"] = {"status": e.http_status, "param": e.param, "message": e.user_message}

try:
    stripe.Customer.retrieve("cus_doesnotexist")
    out["missing"] = None
except stripe.error.InvalidRequestError as e:
    out["missing"] = {"status": e.http_status, "code": e.code}

print(json.dumps(out))
