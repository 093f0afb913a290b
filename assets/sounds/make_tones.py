#!/usr/bin/env python3
"""Makes the two short tones the resident screen plays when a result has no voice prompt.

    python3 assets/sounds/make_tones.py        # writes chime.wav and denied.wav beside this file

chime.wav  — accepted: two soft rising notes (E5 then A5), like a shop door chime.
denied.wav — denied: two lower falling notes (A4 then E4), calm, not a buzzer.
Mono, 16-bit, 22 050 Hz, each under 40 KB. Pure sine tones with a few harmonics, a quick attack and
an exponential decay, so there are no clicks. The output is the same byte for byte on every run.
"""
import math
import os
import struct
import wave

RATE = 22050


def note(freq, seconds, volume):
    """One bell-like note: sine plus two quiet harmonics, 8 ms attack, exponential decay."""
    n = int(RATE * seconds)
    out = []
    for i in range(n):
        t = i / RATE
        attack = min(1.0, t / 0.008)
        decay = math.exp(-4.0 * t / seconds)
        tail = min(1.0, (n - i) / (0.01 * RATE))  # last 10 ms fade to silence
        s = (math.sin(2 * math.pi * freq * t)
             + 0.3 * math.sin(2 * math.pi * 2 * freq * t)
             + 0.1 * math.sin(2 * math.pi * 3 * freq * t)) / 1.4
        out.append(volume * attack * decay * tail * s)
    return out


def silence(seconds):
    return [0.0] * int(RATE * seconds)


def write(path, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32767)) for s in samples))
    size = os.path.getsize(path)
    assert size < 40 * 1024, f"{path} is {size} bytes"
    print(f"{path}: {size} bytes, {len(samples) / RATE:.2f} s")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(here, "chime.wav"),
          note(659.25, 0.22, 0.55) + silence(0.03) + note(880.0, 0.45, 0.55))
    write(os.path.join(here, "denied.wav"),
          note(440.0, 0.28, 0.6) + silence(0.06) + note(329.63, 0.5, 0.6))


if __name__ == "__main__":
    main()
