"""Sidetone's lab: real SIP, media, voicemail, identity, keychain and sound servers on 127.0.0.1.

One entry point (`tests/lab/lab`, or `Lab` from Python) starts, checks and stops them, each in
its own temporary directory with its own ports. Tests, benchmarks, the demo and people use it.
"""

from .core import Lab, LabError, Service  # noqa: F401
