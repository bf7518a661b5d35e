"""Checks the golden vectors independently of the Rust code, with Python's `cryptography`:
each entry's signature verifies over b"cpn-ledger/entry/v1" || ledger id || the entry without
its signature; the ledger id is SHA-256 of the ledger header; the block header's entries root
is the RFC 9162 root of the golden deposit and agent registration; its hash and the
operator's signature match the comments. Run: python3 check_golden.py (from this folder)."""

import hashlib
import pathlib
import re
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HERE = pathlib.Path(__file__).parent


def octets(name):
    text = (HERE / name).read_text()
    return bytes.fromhex("".join(line.split("#")[0].strip() for line in text.splitlines()))


def comment(name, label):
    m = re.search(label + r" = ([0-9a-f]+)", (HERE / name).read_text())
    return bytes.fromhex(m.group(1))


header = octets("ledger_header.hex")
ledger_id = hashlib.sha256(header).digest()
assert header[:8] == b"CPNLEDGR"
operator = header[9:41]
failures = 0
leaves = {}
for path in sorted(HERE.glob("entry_*.hex")):
    b = octets(path.name)
    author, sig = b[2:34], b[-64:]
    msg = b"cpn-ledger/entry/v1" + ledger_id + b[:-64]
    try:
        Ed25519PublicKey.from_public_bytes(author).verify(sig, msg)
        print(f"ok   {path.name}: signature verifies")
    except Exception:
        failures += 1
        print(f"FAIL {path.name}: signature does not verify")
    leaves[path.name] = hashlib.sha256(b"\x00" + b).digest()

block = octets("block_header.hex")
root = hashlib.sha256(b"\x01" + leaves["entry_deposit.hex"] + leaves["entry_register_agent.hex"]).digest()
checks = [
    ("prev is the ledger id", block[9:41] == ledger_id),
    ("entries root", block[53:85] == root),
    ("ledger root", block[93:125] == root),
    ("block hash", hashlib.sha256(block).digest() == comment("block_header.hex", "block hash \\(SHA-256 of these bytes\\)")),
]
try:
    Ed25519PublicKey.from_public_bytes(operator).verify(
        comment("block_header.hex", "operator's signature"), b"cpn-ledger/block/v1" + ledger_id + block
    )
    checks.append(("operator's block signature", True))
except Exception:
    checks.append(("operator's block signature", False))
for name, good in checks:
    print(("ok   " if good else "FAIL ") + name)
    failures += 0 if good else 1
sys.exit(1 if failures else 0)
