"""`nanoproc:hash-stream/sha256` in Python: SHA-256 of a `stream<u8>` by
hashlib, the same export as the Rust guest `hash-stream`.

`digest` returns its future at once and goes on reading the stream in a
task of its own (the component model's task outlives the call's return),
hashing each chunk as it arrives, then resolves the future with the
summary.
"""

import hashlib

import componentize_py_async_support
import wit_world
from wit_world import exports
from wit_world.exports.sha256 import Summary

# The most bytes one read asks for.
CHUNK = 64 * 1024


class Sha256(exports.Sha256):
    async def digest(self, data):
        # What the future resolves to if the task ends before it is written.
        writer, reader = wit_world.sha256_summary_future(lambda: Summary(0, b""))
        componentize_py_async_support.spawn(hash_into(data, writer))
        return reader


async def hash_into(data, writer):
    """Reads `data` to its end, then writes its summary to `writer`."""
    sha = hashlib.sha256()
    length = 0
    with data:
        while not data.writer_dropped:
            chunk = await data.read(CHUNK)
            sha.update(chunk)
            length += len(chunk)
    await writer.write(Summary(length, sha.digest()))
