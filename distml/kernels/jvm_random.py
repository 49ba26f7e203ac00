"""The JVM's random streams MLlib draws its random starts from, number for number.

Spark's ``org.apache.spark.util.random.XORShiftRandom`` (a perceptron's initial weights, ALS's
initial factors): the seed is scrambled by Scala's MurmurHash3 of its eight big-endian bytes,
then each 64-bit step is three shift-xors, and ``nextDouble``/``nextGaussian``/``nextLong``
are ``java.util.Random``'s over those bits. And ``java.util.Random`` itself (the 48-bit linear
congruential generator; the EM optimizer of LDA draws its start from one per partition).
Drawing the same numbers lets a distml fit start where pyspark.ml's starts, so a seed means
the same model in both (``tests/spark/test_mllib_random_start.py`` checks every stream against
the JVM's). Written here, not taken from a library: no Python package reproduces them, and
numba keeps a long draw (a large network's weights) fast.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_MASK48 = (1 << 48) - 1
_ARRAY_SEED = 0x3C074A61  # Scala's MurmurHash3.arraySeed
_JAVA_MULTIPLIER = 0x5DEECE66D  # java.util.Random's


def hash_seed(seed: int) -> int:
    """XORShiftRandom.hashSeed: the generator's first state (as an unsigned 64-bit int)."""
    data = (seed & _MASK64).to_bytes(8, "big")
    low = _bytes_hash(data, _ARRAY_SEED)
    high = _bytes_hash(data, low)
    return (high << 32) | low


def java_random_doubles(seed: int, count: int) -> np.ndarray:
    """The first ``count`` values of ``new java.util.Random(seed).nextDouble()``."""
    out = np.empty(count, dtype=np.float64)
    _fill_java_doubles(np.uint64((seed ^ _JAVA_MULTIPLIER) & _MASK48), out)
    return out


def next_doubles(state: int, count: int) -> tuple[np.ndarray, int]:
    """``count`` values of ``nextDouble()`` from ``state``, and the state after them."""
    out = np.empty(count, dtype=np.float64)
    after = _fill_doubles(np.uint64(state), out)
    return out, int(after)


def next_gaussians(state: int, count: int) -> tuple[np.ndarray, int]:
    """``count`` values of ``nextGaussian()`` (java.util.Random's polar method) from a fresh
    generator at ``state``, and the state after them."""
    out = np.empty(count, dtype=np.float64)
    after = _fill_gaussians(np.uint64(state), out)
    return out, int(after)


def next_long(state: int) -> tuple[int, int]:
    """``nextLong()``: two 32-bit draws, the second added as a signed int; and the state."""
    high, state = _next_bits_py(state, 32)
    low, state = _next_bits_py(state, 32)
    value = ((_signed32(high) << 32) + _signed32(low)) & _MASK64
    return value - (1 << 64) if value >> 63 else value, state


def byteswap64(value: int) -> int:
    """Scala's ``scala.util.hashing.byteswap64`` (MLlib mixes seeds with it), signed."""
    multiplier = 0x9E3775CD9E3775CD
    mixed = int.from_bytes(((value * multiplier) & _MASK64).to_bytes(8, "big"), "little")
    mixed = (mixed * multiplier) & _MASK64
    return mixed - (1 << 64) if mixed >> 63 else mixed


@njit(cache=True, nogil=True)
def _fill_gaussians(state, out):
    s = state
    i = 0
    while i < out.size:
        while True:
            high, s = _next_bits(s, 26)
            low, s = _next_bits(s, 27)
            v1 = 2.0 * (((high << np.uint64(27)) + low) * (1.0 / 9007199254740992.0)) - 1.0
            high, s = _next_bits(s, 26)
            low, s = _next_bits(s, 27)
            v2 = 2.0 * (((high << np.uint64(27)) + low) * (1.0 / 9007199254740992.0)) - 1.0
            r = v1 * v1 + v2 * v2
            if r < 1.0 and r != 0.0:
                break
        multiplier = np.sqrt(-2.0 * np.log(r) / r)
        out[i] = v1 * multiplier
        if i + 1 < out.size:
            out[i + 1] = v2 * multiplier
        i += 2
    return s


@njit(cache=True, nogil=True)
def _fill_java_doubles(state, out):
    s = state
    mask = np.uint64(_MASK48)
    for i in range(out.size):
        s = (s * np.uint64(_JAVA_MULTIPLIER) + np.uint64(11)) & mask
        high = s >> np.uint64(48 - 26)
        s = (s * np.uint64(_JAVA_MULTIPLIER) + np.uint64(11)) & mask
        low = s >> np.uint64(48 - 27)
        out[i] = ((high << np.uint64(27)) + low) * (1.0 / 9007199254740992.0)  # 2^-53


@njit(cache=True, nogil=True)
def _fill_doubles(state, out):
    s = state
    for i in range(out.size):
        high, s = _next_bits(s, 26)
        low, s = _next_bits(s, 27)
        out[i] = ((high << np.uint64(27)) + low) * (1.0 / 9007199254740992.0)  # 2^-53
    return s


@njit(cache=True, nogil=True, inline="always")
def _next_bits(s, bits):
    s ^= s << np.uint64(21)
    s ^= s >> np.uint64(35)
    s ^= s << np.uint64(4)
    return s & ((np.uint64(1) << np.uint64(bits)) - np.uint64(1)), s


def _next_bits_py(state: int, bits: int) -> tuple[int, int]:
    state ^= (state << 21) & _MASK64
    state ^= state >> 35
    state ^= (state << 4) & _MASK64
    return state & ((1 << bits) - 1), state


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >> 31 else value


def _bytes_hash(data: bytes, seed: int) -> int:
    """Scala's ``MurmurHash3.bytesHash`` (MurmurHash3 x86 32-bit), as an unsigned int."""
    h = seed & _MASK32
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        h = _mix(h, int.from_bytes(data[i:i + 4], "little"))
    tail = data[whole:]
    if tail:
        h = _mix_last(h, int.from_bytes(tail, "little"))
    return _avalanche(h ^ len(data))


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK32


def _mix_last(h: int, k: int) -> int:
    k = _rotl((k * 0xCC9E2D51) & _MASK32, 15)
    return h ^ ((k * 0x1B873593) & _MASK32)


def _mix(h: int, k: int) -> int:
    return (_rotl(_mix_last(h, k), 13) * 5 + 0xE6546B64) & _MASK32


def _avalanche(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK32
    return h ^ (h >> 16)
