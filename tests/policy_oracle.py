"""An independent, deliberately simple reading of the public-reply rule, for tests.

It shares no code with service/replies/guard/: if both agree a draft is fine, the draft is
very likely fine; if the guard lets through what this flags, one of them is wrong.
"""

from __future__ import annotations

import re

FORBIDDEN_WORDS = (
    "refund", "discount", "voucher", "coupon", "free", "complimentary", "compensat", "gift card",
    "money back", "on the house", "reimburs", " but ", "however", "unfortunately", "your fault",
    "our records", "remove your review", "update your review", "change your review", "delete",
)


def reply_breaks_rule(text: str, contact: str) -> list[str]:
    problems = []
    lowered = " " + " ".join(text.lower().split()) + " "
    if contact.lower() not in lowered:
        problems.append("contact missing")
    without_contact = lowered.replace(contact.lower(), "")
    if re.search(r"\d", without_contact):
        problems.append("a number")
    if re.search(r"@|https?://|www\.", without_contact):
        problems.append("another contact")
    if "{" in text or "}" in text or "<" in text:
        problems.append("markup or template syntax")
    problems += [f"word {w.strip()!r}" for w in FORBIDDEN_WORDS if w in lowered]
    if not any(w in lowered for w in ("sorry", "apologi", "thank")):
        problems.append("no acknowledgement")
    if not any(w in lowered for w in ("email us", "call us", "get in touch", "contact", "speak with", "talk")):
        problems.append("no invitation")
    return problems
