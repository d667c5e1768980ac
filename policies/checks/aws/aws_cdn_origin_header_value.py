"""Builds CKV_GW_CDN_3: every random value the stack generates (`random_password`, today the
CloudFront origin header's values, constructs/aws/edge.py) holds at least 256 random bits of
letters and digits (CDN-1; the same bar as a generated secret, SEC-5).

A value with fewer bits could be guessed by whoever points a distribution of their own at the
ALB; a special character (hashicorp/random's default set `!@#$%&*()-_=+[]{}<>:?`,
https://registry.terraform.io/providers/hashicorp/random/latest/docs/resources/password) is
one a header value or a WAF byte match may quote or transform, so `special` must be false,
said explicitly (absent means true: never a pass on an absent attribute). Bits are
`length * log2(alphabet)`, the alphabet being the character classes left on (26 upper, 26
lower, 10 digits; all default to true).
"""

import math
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

MIN_BITS = 256
CLASSES = {"upper": 26, "lower": 26, "numeric": 10}


class OriginHeaderValueStrength(GroundworkCheck):
    id = "CKV_GW_CDN_3"
    name = "Every random value is at least 256 bits of letters and digits (no special characters)"
    requirement = "CDN-1"
    severity = "HIGH"
    resource_types = ("random_password",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("special") is not False:
            return Verdict.failed(
                f"special is {body.get('special', 'unset (true)')!r}: random's special "
                "characters may be quoted or transformed in a header value; set special: false"
            )
        length = body.get("length")
        if not isinstance(length, int):
            return Verdict.unknown(f"length is {length!r}, not a number")
        alphabet = sum(size for key, size in CLASSES.items() if body.get(key, True) is not False)
        if alphabet == 0:
            return Verdict.failed("every character class is off: random refuses the resource")
        bits = length * math.log2(alphabet)
        if bits < MIN_BITS:
            return Verdict.failed(
                f"{length} characters of {alphabet} are {bits:.0f} bits, below {MIN_BITS}"
            )
        return Verdict.passed(f"{length} characters of {alphabet}: {bits:.0f} random bits")


check = OriginHeaderValueStrength()
