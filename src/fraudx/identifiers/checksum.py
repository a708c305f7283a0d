"""The Luhn (mod 10) check used by payment card numbers and IMEIs."""

from __future__ import annotations


def luhn_check_digit(payload: str) -> int:
    """The digit that makes ``payload`` followed by it pass the Luhn check."""
    total = 0
    # Doubling starts at the rightmost payload digit, since the check digit will follow it.
    for position, char in enumerate(reversed(payload)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and luhn_check_digit(number[:-1]) == ord(number[-1]) - 48
