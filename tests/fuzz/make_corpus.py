#!/usr/bin/env python3
"""Write the seed corpus for fuzz_request into tests/corpus/request/.

Run once after changing it (python3 tests/fuzz/make_corpus.py); the outputs
are what the repository keeps. msgpack is written by hand here, with the
standard library only, so a seed can use any encoding the wire allows
(str8/16/32, map16/32, every integer width, the three timestamp forms) and
so the allocation bombs can say what a real encoder never would.

Inputs the fuzzer found a bug with are copied into the same directory as
they are (crash-<sha1>, oom-<sha1>, timeout-<sha1>); this script writes
only the files it names and never removes any.
"""

import os
import struct
import sys


class Ext:
    def __init__(self, code, data, wide=False):
        self.code, self.data, self.wide = code, data, wide


class Raw:
    """Bytes written as they are: a hand-made header, a lie, a fragment."""
    def __init__(self, data):
        self.data = data


class Wide:
    """The widest encoding of a value (str32, map32, array32, int64)."""
    def __init__(self, value):
        self.value = value


def pack(value, wide=False):
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, Wide):
        return pack(value.value, True)
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if wide:
            return b"\xd3" + struct.pack(">q", value) if value < 0 else b"\xcf" + struct.pack(">Q", value)
        if 0 <= value <= 0x7f:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack(">b", value)
        if value >= 0:
            for tag, fmt, top in ((0xcc, ">B", 0xff), (0xcd, ">H", 0xffff),
                                  (0xce, ">I", 0xffffffff), (0xcf, ">Q", 2**64 - 1)):
                if value <= top:
                    return bytes([tag]) + struct.pack(fmt, value)
        for tag, fmt, bits in ((0xd0, ">b", 8), (0xd1, ">h", 16), (0xd2, ">i", 32), (0xd3, ">q", 64)):
            if value >= -(2 ** (bits - 1)):
                return bytes([tag]) + struct.pack(fmt, value)
        raise ValueError(value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        n = len(data)
        if wide:
            return b"\xdb" + struct.pack(">I", n) + data
        if n < 32:
            return bytes([0xa0 | n]) + data
        if n < 256:
            return b"\xd9" + bytes([n]) + data
        if n < 65536:
            return b"\xda" + struct.pack(">H", n) + data
        return b"\xdb" + struct.pack(">I", n) + data
    if isinstance(value, bytes):
        n = len(value)
        if wide:
            return b"\xc6" + struct.pack(">I", n) + value
        if n < 256:
            return b"\xc4" + bytes([n]) + value
        if n < 65536:
            return b"\xc5" + struct.pack(">H", n) + value
        return b"\xc6" + struct.pack(">I", n) + value
    if isinstance(value, Ext):
        n, code = len(value.data), struct.pack(">b", value.code)
        fixed = {1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8}
        if value.wide:
            return b"\xc9" + struct.pack(">I", n) + code + value.data
        if n in fixed:
            return bytes([fixed[n]]) + code + value.data
        if n < 256:
            return b"\xc7" + bytes([n]) + code + value.data
        if n < 65536:
            return b"\xc8" + struct.pack(">H", n) + code + value.data
        return b"\xc9" + struct.pack(">I", n) + code + value.data
    if isinstance(value, (list, tuple)):
        n = len(value)
        if wide:
            head = b"\xdd" + struct.pack(">I", n)
        elif n < 16:
            head = bytes([0x90 | n])
        elif n < 65536:
            head = b"\xdc" + struct.pack(">H", n)
        else:
            head = b"\xdd" + struct.pack(">I", n)
        return head + b"".join(pack(v) for v in value)
    if isinstance(value, dict):
        n = len(value)
        if wide:
            head = b"\xdf" + struct.pack(">I", n)
        elif n < 16:
            head = bytes([0x80 | n])
        elif n < 65536:
            head = b"\xde" + struct.pack(">H", n)
        else:
            head = b"\xdf" + struct.pack(">I", n)
        return head + b"".join(pack(k) + pack(v) for k, v in value.items())
    raise TypeError(type(value))


# msgpack timestamps (ext -1) in their three sizes.
def ts32(seconds):
    return Ext(-1, struct.pack(">I", seconds))


def ts64(seconds, nanoseconds):
    return Ext(-1, struct.pack(">Q", (nanoseconds << 34) | seconds))


def ts96(seconds, nanoseconds):
    return Ext(-1, struct.pack(">Iq", nanoseconds, seconds))


def req(*ops, **top):
    body = {"v": 1}
    body.update(top)
    body["ops"] = list(ops)
    return body


def ref(k):
    return {"ref": k}


T = "2025-01-02T03:04:05Z"
SEEDS = {}


def seed(name, value):
    SEEDS[name] = value if isinstance(value, bytes) else pack(value)


# --- every op, valid ---------------------------------------------------------
seed("op-category-create", req({"op": "category.create", "name": "Food"}))
seed("op-category-create-parent-id", req({"op": "category.create", "name": "Bread", "parent": 1}))
seed("op-category-create-parent-name", req({"op": "category.create", "name": "Bread", "parent": "Food"}))
seed("op-category-create-parent-nil", req({"op": "category.create", "name": "Top", "parent": None}))
seed("op-category-create-parent-ref", req({"op": "category.create", "name": "Food"},
                                          {"op": "category.create", "name": "Bread", "parent": ref(0)}))
seed("op-category-update", req({"op": "category.update", "id": 3, "name": "Groceries", "parent": None}))
seed("op-category-update-ref", req({"op": "category.create", "name": "A"},
                                   {"op": "category.update", "id": ref(0), "parent": 2}))
seed("op-category-delete", req({"op": "category.delete", "id": 3}))
seed("op-category-get-id", req({"op": "category.get", "id": 1}))
seed("op-category-get-name", req({"op": "category.get", "name": "Food"}))
seed("op-category-list", req({"op": "category.list"}))
seed("op-txn-create", req({"op": "txn.create", "amount": -1234, "occurred_at": T}))
seed("op-txn-create-full", req({"op": "txn.create", "amount": "-12.34", "occurred_at": "2025-01-02T03:04:05.123456+05:30",
                                "description": "lunch \u00e9\u4e2d\U0001f600", "category": "Food"}))
seed("op-txn-create-category-ref", req({"op": "category.create", "name": "Food"},
                                       {"op": "txn.create", "amount": 5, "occurred_at": T, "category": ref(0),
                                        "description": None}))
seed("op-txn-create-category-nil", req({"op": "txn.create", "amount": "7", "occurred_at": T, "category": None}))
seed("op-txn-update", req({"op": "txn.update", "id": 9, "amount": "7.5", "occurred_at": "2025-01-02T03:04:05-08:00",
                           "description": "fixed", "category": 2}))
seed("op-txn-update-ref", req({"op": "txn.create", "amount": 1, "occurred_at": T},
                              {"op": "txn.update", "id": ref(0), "description": None}))
seed("op-txn-delete", req({"op": "txn.delete", "id": 9}))
seed("op-txn-delete-ref", req({"op": "txn.create", "amount": 1, "occurred_at": T}, {"op": "txn.delete", "id": ref(0)}))
seed("op-txn-get", req({"op": "txn.get", "id": 9}))
seed("op-txn-query", req({"op": "txn.query"}))
seed("op-txn-query-full", req({"op": "txn.query", "from": "2025-01-01", "to": "2025-02-01T00:00:00+01:00",
                               "categories": [1, "Food", 3], "include_subcategories": True,
                               "min_amount": "-100.00", "max_amount": 100000, "limit": 10000,
                               "after": "1735689600000000:42"}))
seed("op-txn-query-ext-bounds", req({"op": "txn.query", "from": ts32(1735689600), "to": ts96(1738368000, 999999999),
                                     "after": None, "limit": 1, "include_subcategories": False}))
seed("op-txn-query-categories-ref", req({"op": "category.create", "name": "A"},
                                        {"op": "txn.query", "categories": [ref(0), "B"]}))
seed("op-sys-ping", req({"op": "sys.ping"}))
seed("op-sys-stats", req({"op": "sys.stats"}))
seed("op-sys-backup", req({"op": "sys.backup"}))
seed("op-sys-backup-read", req({"op": "sys.backup_read", "token": "6d6325797eee69a1ecf4ee0dc8750722",
                                "position": 2**63 - 1, "length": 1048576}))
seed("op-sys-backup-read-bad", req({"op": "sys.backup_read", "token": "t" * 65, "position": -1, "length": 1048577},
                                   mode="independent"))
seed("op-sys-backup-end", req({"op": "sys.backup_end", "token": "t"}))
seed("op-sys-backup-not-alone", req({"op": "sys.backup"}, {"op": "sys.ping"}, key="k"))
seed("op-every", req({"op": "category.create", "name": "Food"},
                     {"op": "category.update", "id": ref(0), "name": "Meals"},
                     {"op": "category.get", "id": ref(0)},
                     {"op": "category.list"},
                     {"op": "txn.create", "amount": "1.00", "occurred_at": ts64(1735689600, 500000000),
                      "category": ref(0)},
                     {"op": "txn.update", "id": ref(4), "amount": 2},
                     {"op": "txn.get", "id": ref(4)},
                     {"op": "txn.query", "categories": [ref(0)]},
                     {"op": "txn.delete", "id": ref(4)},
                     {"op": "category.delete", "id": ref(0)},
                     {"op": "sys.ping"},
                     {"op": "sys.stats"}, mode="atomic", id=77, key="every-op"))

# --- the request envelope ---------------------------------------------------
seed("env-id-string", req({"op": "sys.ping"}, id="req-\u00fc-1"))
seed("env-id-uint64", req({"op": "sys.ping"}, id=2**64 - 1))
seed("env-id-zero", req({"op": "sys.ping"}, id=0))
seed("env-id-256", req({"op": "sys.ping"}, id="i" * 256))
seed("env-id-257", req({"op": "sys.ping"}, id="i" * 257))
seed("env-id-negative", req({"op": "sys.ping"}, id=-1))
seed("env-key", req({"op": "txn.create", "amount": 100, "occurred_at": T}, key="import-2025-01-02-0001", id=5))
seed("env-key-128", req({"op": "sys.ping"}, key="k" * 128))
seed("env-key-129", req({"op": "sys.ping"}, key="k" * 129))
seed("env-key-empty", req({"op": "sys.ping"}, key=""))
seed("env-mode-atomic", req({"op": "sys.ping"}, mode="atomic"))
seed("env-mode-bad", req({"op": "sys.ping"}, mode="sometimes"))
seed("env-independent", req({"op": "txn.create", "amount": 1, "occurred_at": T},
                            {"op": "txn.create", "amount": 1.5, "occurred_at": T},
                            {"op": "nope"},
                            {"op": "txn.update", "id": ref(1), "amount": 3},
                            {"op": "txn.get", "id": ref(0)}, mode="independent", id="ind"))
seed("env-independent-all-bad", req({"op": "txn.create"}, {"op": "category.get"}, mode="independent"))
seed("env-keys-first", {"ops": [{"op": "sys.ping"}], "mode": "independent", "key": "k", "id": 1, "v": 1})
seed("env-version-2", {"v": 2, "ops": [{"op": "sys.ping"}]})
seed("env-no-v", {"ops": [{"op": "sys.ping"}]})
seed("env-no-ops", {"v": 1})
seed("env-ops-empty", {"v": 1, "ops": []})
seed("env-ops-not-array", {"v": 1, "ops": {"op": "sys.ping"}})
seed("env-op-not-map", {"v": 1, "ops": [1, {"op": "sys.ping"}]})
seed("env-unknown-key", {"v": 1, "ops": [{"op": "sys.ping"}], "extra": [1, {"a": None}]})
seed("env-trailing-bytes", pack(req({"op": "sys.ping"})) + b"\xc0")
seed("env-not-a-map", [1, 2, 3])
seed("env-empty", b"")
seed("env-too-many-ops-4", req(*([{"op": "sys.ping"}] * 4)))
seed("env-wide-encodings", Wide({"v": Wide(1), "id": Wide("x"), "ops": Wide([Wide({"op": Wide("txn.create"),
                                 "amount": Wide(-5), "occurred_at": Wide(T), "description": Wide("d")})])}))
seed("env-map16-array16", Raw(b"\xde\x00\x02" + pack("v") + pack(1) + pack("ops") + b"\xdc\x00\x01"
                              + b"\xde\x00\x01" + pack("op") + b"\xda\x00\x08sys.ping"))
seed("env-integer-widths", req({"op": "txn.get", "id": Raw(b"\xcc\x05")}, {"op": "txn.get", "id": Raw(b"\xcd\x00\x05")},
                               {"op": "txn.get", "id": Raw(b"\xce\x00\x00\x00\x05")},
                               {"op": "txn.get", "id": Raw(b"\xd0\x05")}, {"op": "txn.get", "id": Raw(b"\xd1\x00\x05")},
                               {"op": "txn.get", "id": Raw(b"\xd2\x00\x00\x00\x05")},
                               {"op": "txn.get", "id": Raw(b"\xd3\x00\x00\x00\x00\x00\x00\x00\x05")}))
seed("env-many-ops", req(*[{"op": "txn.create", "amount": n, "occurred_at": T} for n in range(300)]))
seed("env-duplicate-top-key", Raw(b"\x83" + pack("v") + pack(1) + pack("v") + pack(1) + pack("ops") + pack([])))
seed("env-duplicate-op-key", Raw(b"\x82" + pack("v") + pack(1) + pack("ops")
                                 + b"\x91\x82" + pack("op") + pack("sys.ping") + pack("op") + pack("sys.ping")))
seed("env-non-string-key", Raw(b"\x82" + pack("v") + pack(1) + b"\x01" + pack("x")))
seed("env-bad-utf8", Raw(b"\x82" + pack("v") + pack(1) + pack("ops") + b"\x91\x81" + pack("op") + b"\xa2\xc3\x28"))
seed("env-surrogate-utf8", Raw(b"\x82" + pack("v") + pack(1) + pack("ops") + b"\x91\x81" + pack("op") + b"\xa3\xed\xa0\x80"))

# --- op and field errors ---------------------------------------------------
seed("err-unknown-op", req({"op": "txn.explode"}))
seed("err-op-not-string", req({"op": 5}))
seed("err-missing-op", req({"name": "x"}))
seed("err-unknown-field", req({"op": "sys.ping", "colour": "blue"}))
seed("err-field-not-allowed", req({"op": "sys.ping", "amount": 1}))
seed("err-missing-field", req({"op": "txn.create", "amount": 1}))
seed("err-nothing-to-update", req({"op": "txn.update", "id": 1}))
seed("err-get-needs-one", req({"op": "category.get"}))
seed("err-get-conflict", req({"op": "category.get", "id": 1, "name": "Food"}))
seed("err-id-zero", req({"op": "txn.get", "id": 0}))
seed("err-id-uint64", req({"op": "txn.get", "id": 2**64 - 1}))
seed("err-id-string", req({"op": "txn.get", "id": "1"}))
seed("err-name-empty", req({"op": "category.create", "name": ""}))
seed("err-name-101", req({"op": "category.create", "name": "n" * 101}))
seed("err-description-1001", req({"op": "txn.create", "amount": 1, "occurred_at": T, "description": "d" * 1001}))
seed("err-amount-float", req({"op": "txn.create", "amount": 1.25, "occurred_at": T}))
seed("err-amount-float32", req({"op": "txn.create", "amount": Raw(b"\xca\x3f\xa0\x00\x00"), "occurred_at": T}))
seed("err-amount-inexact", req({"op": "txn.create", "amount": "1.234", "occurred_at": T}))
seed("err-amount-range", req({"op": "txn.create", "amount": "92233720368547758.08", "occurred_at": T}))
seed("ok-amount-min", req({"op": "txn.create", "amount": "-92233720368547758.08", "occurred_at": T}))
seed("err-amount-bad", req({"op": "txn.create", "amount": "1e5", "occurred_at": T}))
seed("err-amount-uint64", req({"op": "txn.create", "amount": 2**63, "occurred_at": T}))
seed("err-amount-bool", req({"op": "txn.create", "amount": True, "occurred_at": T}))
seed("err-time-naive", req({"op": "txn.create", "amount": 1, "occurred_at": "2025-01-02T03:04:05"}))
seed("err-time-bad", req({"op": "txn.create", "amount": 1, "occurred_at": "2025-02-30T03:04:05Z"}))
seed("err-time-leap-second", req({"op": "txn.create", "amount": 1, "occurred_at": "2016-12-31T23:59:60Z"}))
seed("err-time-7-digits", req({"op": "txn.create", "amount": 1, "occurred_at": "2025-01-02T03:04:05.1234567Z"}))
seed("err-time-date-only", req({"op": "txn.create", "amount": 1, "occurred_at": "2025-01-02"}))
seed("err-time-ext-type", req({"op": "txn.create", "amount": 1, "occurred_at": Ext(5, b"\x00\x00\x00\x00")}))
seed("err-time-ext-ns", req({"op": "txn.create", "amount": 1, "occurred_at": ts96(0, 1000000000)}))
seed("err-time-ext-range", req({"op": "txn.create", "amount": 1, "occurred_at": ts96(-62135596801, 0)}))
seed("err-time-ext-size", req({"op": "txn.create", "amount": 1, "occurred_at": Ext(-1, b"\x00" * 16)}))
seed("ok-time-ext-edges", req({"op": "txn.create", "amount": 1, "occurred_at": ts96(-62135596800, 0)},
                              {"op": "txn.create", "amount": 1, "occurred_at": ts96(253402300799, 999999999)},
                              {"op": "txn.create", "amount": 1, "occurred_at": ts64(2**34 - 1, 999999999)},
                              {"op": "txn.create", "amount": 1, "occurred_at": ts32(2**32 - 1)},
                              {"op": "txn.create", "amount": 1, "occurred_at": ts96(-1, 1)}))
seed("ok-time-text-edges", req({"op": "txn.create", "amount": 1, "occurred_at": "0001-01-01T00:00:00+23:59"},
                               {"op": "txn.create", "amount": 1, "occurred_at": "9999-12-31t23:59:59.999999-23:59"},
                               {"op": "txn.create", "amount": 1, "occurred_at": "2024-02-29T12:00:00-00:00"},
                               {"op": "txn.create", "amount": 1, "occurred_at": "2000-02-29T00:00:00.5z"}))
seed("err-ref-forward", req({"op": "txn.get", "id": ref(1)}, {"op": "txn.create", "amount": 1, "occurred_at": T}))
seed("err-ref-self", req({"op": "category.update", "id": ref(0), "name": "x"}))
seed("err-ref-wrong-kind", req({"op": "category.create", "name": "A"}, {"op": "txn.get", "id": ref(0)}))
seed("err-ref-not-creating", req({"op": "sys.ping"}, {"op": "txn.get", "id": ref(0)}))
seed("err-ref-two-keys", req({"op": "txn.get", "id": {"ref": 0, "x": 1}}))
seed("err-ref-bad-key", req({"op": "txn.get", "id": {"rf": 0}}))
seed("err-ref-negative", req({"op": "txn.get", "id": ref(-1)}))
seed("err-ref-huge", req({"op": "txn.get", "id": ref(2**40)}))
seed("err-ref-to-failed", req({"op": "txn.create", "amount": "x", "occurred_at": T},
                              {"op": "txn.get", "id": ref(0)}, mode="independent"))
seed("err-categories-empty", req({"op": "txn.query", "categories": []}))
seed("err-categories-1001", req({"op": "txn.query", "categories": list(range(1, 1002))}))
seed("ok-categories-1000", req({"op": "txn.query", "categories": list(range(1, 1001))}))
seed("err-categories-nil-entry", req({"op": "txn.query", "categories": [1, None]}))
seed("err-categories-not-array", req({"op": "txn.query", "categories": 1}))
seed("err-bound-bad", req({"op": "txn.query", "from": "2025-13-01"}))
seed("err-limit-zero", req({"op": "txn.query", "limit": 0}))
seed("err-limit-10001", req({"op": "txn.query", "limit": 10001}))
seed("err-limit-string", req({"op": "txn.query", "limit": "5"}))
seed("err-bool-int", req({"op": "txn.query", "include_subcategories": 1}))
seed("err-cursor-bad", req({"op": "txn.query", "after": "abc"}))
seed("err-cursor-id-zero", req({"op": "txn.query", "after": "5:0"}))
seed("err-cursor-overflow", req({"op": "txn.query", "after": "9223372036854775808:1"}))
seed("ok-cursor-min", req({"op": "txn.query", "after": "-9223372036854775808:9223372036854775807"}))
seed("err-atomic-second-invalid", req({"op": "sys.ping"}, {"op": "txn.get", "id": -5}, {"op": "nope"}))
seed("err-unknown-field-long", req({"op": "sys.ping", "\u00e9" * 80: 1}))
seed("err-unknown-op-long", req({"op": "\u4e2d" * 60}))
seed("err-value-bin", req({"op": "category.create", "name": b"Food"}))
seed("err-value-nested", req({"op": "category.create", "name": [[[{"a": [1, 2, {"b": None}]}]]]}))

# --- allocation bombs ---------------------------------------------------------
HEAD = pack("v") + pack(1) + pack("ops")          # inside a request map: \x82 + HEAD + ...
OP = b"\x82" + pack("op") + pack("category.create") + pack("name")
bombs = {
    "array32": b"\xdd\xff\xff\xff\xff",
    "map32": b"\xdf\xff\xff\xff\xff",
    "str32": b"\xdb\xff\xff\xff\xff" + b"a" * 8,
    "bin32": b"\xc6\xff\xff\xff\xff" + b"\x00" * 8,
    "ext32": b"\xc9\xff\xff\xff\xff\xff" + b"\x00" * 8,
    "array16": b"\xdc\xff\xff" + b"\xc0" * 100,
    "map16": b"\xde\xff\xff" + b"\xa1k\xc0" * 50,
    "str16": b"\xda\xff\xff" + b"a" * 100,
    "str8": b"\xd9\xff" + b"a" * 100,
    "bin8": b"\xc4\xff" + b"\x00" * 10,
    "ext8": b"\xc7\xff\x01" + b"\x00" * 10,
    "ext16": b"\xc8\xff\xff\xff" + b"\x00" * 10,
    "fixext16-short": b"\xd8\xff" + b"\x00" * 10,
    "chained-array32": b"\xdd\x00\x01\x00\x00" * 200,
    "chained-map32": b"\xdf\x00\x01\x00\x00" * 200,
    "chained-array16": b"\xdc\xff\xff" * 300,
    "deep-arrays": b"\x91" * 100 + b"\xc0",
    "deep-maps": b"\x81\xa1k" * 100 + b"\xc0",
    "deep-mixed": (b"\x91\x81\xa1k") * 50 + b"\xc0",
}
for name, bomb in bombs.items():
    seed("bomb-bare-" + name, bomb)
    seed("bomb-ops-" + name, b"\x82" + HEAD + bomb)
    seed("bomb-field-" + name, b"\x82" + HEAD + b"\x91" + OP + bomb)
seed("bomb-ops-array-of-chained", b"\x82" + HEAD + b"\x91" + b"\xdd\x00\x01\x00\x00" * 100)
seed("bomb-categories-array32", b"\x82" + HEAD + b"\x91\x82" + pack("op") + pack("txn.query") + pack("categories")
     + b"\xdd\xff\xff\xff\xff" + b"\x01" * 20)
seed("bomb-categories-deep", b"\x82" + HEAD + b"\x91\x82" + pack("op") + pack("txn.query") + pack("categories")
     + b"\x91" * 40 + b"\x01")
seed("bomb-key-str32", b"\x82" + pack("v") + pack(1) + b"\xdb\xff\xff\xff\xff" + b"ops")
seed("bomb-id-str32", b"\x83" + pack("v") + pack(1) + pack("id") + b"\xdb\x7f\xff\xff\xff" + b"x" * 16)
seed("bomb-ref-map32", b"\x82" + HEAD + b"\x91\x82" + pack("op") + pack("txn.get") + pack("id") + b"\xdf\xff\xff\xff\xff")
seed("bomb-too-many-keys", b"\xde\x01\x00" + b"".join(pack("k%d" % n) + b"\xc0" for n in range(256)))
seed("bomb-op-too-many-keys", b"\x82" + HEAD + b"\x91\xde\x00\x50" + b"".join(pack("k%d" % n) + b"\xc0" for n in range(80)))
seed("bomb-ops-count-lie", b"\x82" + HEAD + b"\xdd\x00\x00\x27\x10" + b"\x80" * 100)
seed("err-nesting-below-limit", pack(req({"op": "sys.ping", "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]})))

# --- regressions: fingerprint collisions (see the a/b pairs) -----------------
# Each pair is two different independent-mode batches under one key that
# proto_request_new gives the same fingerprint, so the worker replays the
# first one's reply for the second instead of answering KEY_REUSED: an
# unknown field is not hashed, a value that failed to decode hashes as
# absent, and an unknown op hashes as op code 0 ("category.create").
IND = dict(mode="independent", key="fp-1")
seed("regress-fingerprint-unknown-field-a", req({"op": "txn.create", "amount": 100, "occurred_at": T, "memo": "x"}, **IND))
seed("regress-fingerprint-unknown-field-b", req({"op": "txn.create", "amount": 100, "occurred_at": T}, **IND))
seed("regress-fingerprint-unknown-op-a", req({"op": "nope"}, **IND))
seed("regress-fingerprint-unknown-op-b", req({"op": "category.create"}, **IND))
seed("regress-fingerprint-bad-value-a", req({"op": "txn.create", "amount": "1.234", "occurred_at": T}, **IND))
seed("regress-fingerprint-bad-value-b", req({"op": "txn.create", "amount": "abc", "occurred_at": T}, **IND))

# --- text for the scalar parsers (the fuzzer feeds every input to them) -------
for name, text in {
    "text-time": "2025-01-02T03:04:05.123456+05:30",
    "text-time-z": "0001-01-01T00:00:00Z",
    "text-time-naive": "9999-12-31T23:59:59.999999",
    "text-date": "2024-02-29",
    "text-amount": "-92233720368547758.08",
    "text-amount-short": "0.5",
    "text-cursor": "-62135596800000000:9223372036854775807",
}.items():
    SEEDS[name] = text.encode()
SEEDS["text-ext12"] = struct.pack(">Iq", 999999999, 253402300799)
SEEDS["text-ext8"] = struct.pack(">Q", (999999999 << 34) | (2**34 - 1))
SEEDS["text-ext4"] = struct.pack(">I", 2**32 - 1)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "request")
    out = os.path.normpath(out)
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("make_corpus: %d seeds in %s" % (len(SEEDS), out), file=sys.stderr)


if __name__ == "__main__":
    main()
