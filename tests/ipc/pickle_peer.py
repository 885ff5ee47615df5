"""Real-CPython side of weft's pickle interop tests (tests/ipc/pickle_python_test.ts).

Modes (records are [u8 protocol][u32 little-endian length][pickle]):
  make SEED N PROTOS OUT   random nested values, each pickled with every protocol in PROTOS
  check SEED N PROTOS IN   compare weft's re-encoding of `make`'s values with Python's own
                           round trip at that protocol, type-strictly; prints "ok COUNT"
  echo IN OUT              unpickle each record and pickle it again with the same protocol
  server / client          multiprocessing.connection peers (authkey read from stdin as hex)
No secret is ever on the command line.
"""
import collections
import datetime as dt
import decimal
import math
import os
import pickle
import random
import struct
import sys
import zoneinfo

ZONES = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]


def rand_str(r):
    kind = r.randrange(6)
    if kind == 0:
        return ""
    if kind == 1:
        return "".join(r.choice("abcxyz_09") for _ in range(r.randrange(1, 12)))
    if kind == 2:
        return "".join(chr(r.randrange(0x20, 0x800)) for _ in range(r.randrange(1, 30)))
    if kind == 3:
        return "".join(chr(r.randrange(0x1F300, 0x1F650)) for _ in range(r.randrange(1, 5)))
    if kind == 4:  # lone surrogates and control characters
        return "a\ud800b\udfff\n\\\x00" + chr(r.randrange(0xD800, 0xE000))
    return "long-" + "x" * r.randrange(200, 400)


def rand_key(r):
    kind = r.randrange(5)
    if kind == 0:
        return r.randrange(-1000, 1000)
    if kind == 1:
        return (r.randrange(100), rand_str(r))
    if kind == 2:
        return bytes(r.randrange(256) for _ in range(r.randrange(4)))
    if kind == 3:
        return r.choice(["1", "0", "__proto__", "42"])  # keys JS objects cannot keep as is
    return rand_str(r)


def rand_datetime(r):
    d = dt.datetime(r.randrange(1, 10000), r.randrange(1, 13), r.randrange(1, 29),
                    r.randrange(24), r.randrange(60), r.randrange(60), r.randrange(1000000))
    kind = r.randrange(5)
    if kind == 0:
        return d
    if kind == 1:
        return d.replace(tzinfo=dt.timezone.utc)
    if kind == 2:
        return d.replace(tzinfo=dt.timezone(dt.timedelta(minutes=r.randrange(-23 * 60, 24 * 60))))
    if kind == 3:
        return d.replace(tzinfo=dt.timezone(dt.timedelta(seconds=r.randrange(1, 59))))  # not minutes
    return d.replace(year=r.randrange(1900, 2100), tzinfo=zoneinfo.ZoneInfo(r.choice(ZONES)),
                     fold=r.randrange(2))


def rand_scalar(r):
    kind = r.randrange(22)
    if kind == 0:
        return None
    if kind == 1:
        return r.random() < 0.5
    if kind == 2:
        return r.randrange(-300, 300)
    if kind == 3:
        return r.randrange(-2**63, 2**63)
    if kind == 4:
        return r.randrange(-2**300, 2**300)
    if kind == 5:
        return r.uniform(-1e6, 1e6)
    if kind == 6:
        return float(r.randrange(-1000, 1000))  # integral floats
    if kind == 7:
        return r.choice([0.0, -0.0, math.inf, -math.inf, 1e308, 5e-324, 2.0**60])
    if kind in (8, 9, 10):
        return rand_str(r)
    if kind == 11:
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 300)))
    if kind == 12:
        return bytearray(r.randrange(256) for _ in range(r.randrange(0, 20)))
    if kind == 13:
        return rand_datetime(r)
    if kind == 14:
        return dt.date(r.randrange(1, 10000), r.randrange(1, 13), r.randrange(1, 29))
    if kind == 15:
        t = dt.time(r.randrange(24), r.randrange(60), r.randrange(60), r.randrange(1000000))
        return t if r.random() < 0.8 else t.replace(tzinfo=dt.timezone(dt.timedelta(hours=2)))
    if kind == 16:
        return dt.timedelta(days=r.randrange(-999999999, 999999999), seconds=r.randrange(86400),
                            microseconds=r.randrange(1000000))
    if kind == 17:
        return decimal.Decimal(r.choice(["0.10", "-1.5E+7", "NaN", "Infinity", "-0", "123456789012345678901234567890.5"]))
    if kind == 18:
        return complex(r.uniform(-10, 10), r.choice([0.0, -1.0, 2.5]))
    if kind == 19:
        return frozenset(rand_key(r) for _ in range(r.randrange(4)))
    if kind == 20:
        return {rand_key(r) for _ in range(r.randrange(5))}
    return r.randrange(2**53 - 5, 2**53 + 5)  # around the safe-integer edge


def rand_value(r, depth=0):
    if depth >= 4 or r.random() < 0.35:
        return rand_scalar(r)
    kind = r.randrange(4)
    n = r.randrange(0, 6)
    if kind == 0:
        return [rand_value(r, depth + 1) for _ in range(n)]
    if kind == 1:
        return tuple(rand_value(r, depth + 1) for _ in range(n))
    if kind == 2:
        return {rand_str(r): rand_value(r, depth + 1) for _ in range(n)}
    return {rand_key(r): rand_value(r, depth + 1) for _ in range(n)}


def values(seed, n):
    r = random.Random(seed)
    out = [rand_value(r) for _ in range(n)]
    shared = [1, "shared"]
    out.append([shared, shared, {"again": shared}])  # identity must survive
    cyclic = [1]
    cyclic.append(cyclic)
    out.append(cyclic)
    out.append(collections.OrderedDict([("b", 1), ("a", 2)]))
    return out


def same(a, b, seen=None):
    """Type-strict, order-strict equality; tolerant of cycles."""
    seen = set() if seen is None else seen
    if type(a) is collections.OrderedDict and type(b) is dict:
        a = dict(a)  # documented: an OrderedDict comes back as a dict (a JS Map)
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b)
    if isinstance(a, (list, tuple, dict)):
        if (id(a), id(b)) in seen:
            return True
        seen.add((id(a), id(b)))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, seen) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(k1, k2, seen) and same(v1, v2, seen) for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    if isinstance(a, dt.datetime):
        # fold only matters through utcoffset() (weft keeps the instant, not a meaningless bit)
        return (a == b and a.replace(tzinfo=None, fold=0) == b.replace(tzinfo=None, fold=0)
                and a.utcoffset() == b.utcoffset() and a.tzinfo == b.tzinfo)
    if isinstance(a, dt.time):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    return a == b


def write_records(path, records):
    with open(path, "wb") as f:
        for proto, data in records:
            f.write(struct.pack("<BI", proto, len(data)))
            f.write(data)


def read_records(path):
    with open(path, "rb") as f:
        blob = f.read()
    pos, out = 0, []
    while pos < len(blob):
        proto, n = struct.unpack_from("<BI", blob, pos)
        out.append((proto, blob[pos + 5:pos + 5 + n]))
        pos += 5 + n
    return out


def main():
    mode = sys.argv[1]
    if mode == "make":
        seed, n, protos, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
        write_records(out, [(int(p), pickle.dumps(v, int(p))) for v in values(seed, n) for p in protos.split(",")])
        print("made", flush=True)
    elif mode == "check":
        seed, n, protos, path = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
        expected = [(int(p), v) for v in values(seed, n) for p in protos.split(",")]
        got = read_records(path)
        assert len(got) == len(expected), (len(got), len(expected))
        bad = 0
        for i, ((proto, v), (_, data)) in enumerate(zip(expected, got)):
            ref = pickle.loads(pickle.dumps(v, proto))
            back = pickle.loads(data)
            if not same(ref, back):
                bad += 1
                if bad <= 5:
                    print("MISMATCH #%d p%d: %.300r != %.300r" % (i, proto, ref, back), flush=True)
        shared = pickle.loads(got[-3 * len(protos.split(","))][1])
        assert shared[0] is shared[1] is shared[2]["again"], "identity lost"
        cyclic = pickle.loads(got[-2 * len(protos.split(","))][1])
        assert cyclic[1] is cyclic, "cycle lost"
        print("ok %d" % len(got) if bad == 0 else "failed %d" % bad, flush=True)
    elif mode == "echo":
        records = read_records(sys.argv[2])
        write_records(sys.argv[3], [(p, pickle.dumps(pickle.loads(d), p)) for p, d in records])
        print("echoed %d" % len(records), flush=True)
    elif mode in ("server", "client"):
        connection_peer(mode)


SAMPLE = {
    "dict": {"a": [1, 2.5, "x", None, True, b"raw", (1, 2)]},
    "big": 2**100, "neg": -(2**70), "float": 1.0, "set": {1, 2, 3}, "frozen": frozenset({"f"}),
    "when": dt.datetime(2026, 11, 25, 21, 0, 0, 123456, tzinfo=dt.timezone.utc),
    "naive": dt.datetime(2000, 1, 1), "day": dt.date(1999, 12, 31), "span": dt.timedelta(days=-1, seconds=1),
    "price": decimal.Decimal("9.99"), "z": complex(1, -1), "ba": bytearray(b"\x00\xff"), (1, "k"): "tuple key",
}


def connection_peer(mode):
    from multiprocessing.connection import Client, Listener
    key = bytes.fromhex(sys.stdin.readline().strip())
    if mode == "server":
        listener = Listener(("127.0.0.1", 0), authkey=key)
        print(listener.address[1], flush=True)
        conn = listener.accept()
    else:
        port = int(sys.stdin.readline())
        conn = Client(("127.0.0.1", port), authkey=key)
    # 1. Python -> weft: the sample; weft answers with it unchanged plus its own value.
    conn.send(SAMPLE)
    echoed, own = conn.recv()
    assert echoed == SAMPLE, "echo differs: %r" % (echoed,)
    assert type(echoed["frozen"]) is frozenset and type(echoed["ba"]) is bytearray
    assert own == {"from": "weft", "big": 2**80, "t": (1, [2, 3]), "b": b"\x01\x02", "s": {"x"}}, own
    # 2. A malicious pickle: weft must refuse it, run nothing, and keep the connection usable.
    marker = "/tmp/weft-pickle-pwned-%d" % os.getpid()
    evil = b"cos\nsystem\n(S'touch " + marker.encode() + b"'\ntR."
    conn.send_bytes(evil)
    assert conn.recv() == "refused: os.system", "weft did not refuse"
    assert not os.path.exists(marker), "weft ran the payload"
    conn.send("after")
    assert conn.recv() == "AFTER"
    conn.close()
    print("ok", flush=True)


if __name__ == "__main__":
    main()
