"""Run one version of the seed 003 write under gevent and print what it wrote, as JSON.

    python seed003_write.py MODULE_FILE OUT_PATH LINES

MODULE_FILE defines `write_sn_file(path, codes)` (rules/GEV301/bad.py, or what `lintgevent fix`
made of it); it patches at import.  The write runs in a greenlet.  Printed: the sha256 of the
decompressed text, of the gzip stream with its mtime field zeroed (gzip.open stamps the time), and
of the text the codes should make.
"""
import gzip
import hashlib
import importlib.util
import json
import sys


def load(path):
    spec = importlib.util.spec_from_file_location("seed003_variant", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(module_file, out_path, lines):
    module = load(module_file)
    import gevent  # after the module patched

    codes = [hashlib.sha256(str(i).encode()).hexdigest()[:16].upper() for i in range(int(lines))]
    gevent.spawn(module.write_sn_file, out_path, codes).get()
    with open(out_path, "rb") as handle:
        raw = bytearray(handle.read())
    raw[4:8] = b"\0\0\0\0"
    print(json.dumps({
        "text": hashlib.sha256(gzip.decompress(bytes(raw))).hexdigest(),
        "stream": hashlib.sha256(bytes(raw)).hexdigest(),
        "expected": hashlib.sha256(("\n".join(codes) + "\n").encode()).hexdigest(),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
