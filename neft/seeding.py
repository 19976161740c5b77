"""Seeds derived by hashing: every random stream is a pure function of (run seed, purpose, indices).

This is what makes results reproducible, resumable mid-epoch, and comparable across methods
(common random numbers): the Monte-Carlo noise of run r at sigma s depends on (seed, s, r) only.
"""

import hashlib

import torch


def derive_seed(*keys: object) -> int:
    """A 63-bit seed from any tuple of ints/strings/floats (floats rounded to 1e-6)."""
    text = "/".join(f"{k:.6f}" if isinstance(k, float) else str(k) for k in keys)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


def generator(device: torch.device | str, *keys: object) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(derive_seed(*keys))
    return g
