"""Where the zip archive that starts at a stream's position ends, and a window onto just it.

Several ts.save calls into one stream write archives one after another; zipfile looks for the
end record at the end of the whole stream, so it would open the LAST archive whichever position
the stream is at. Walking the archive forward from its first byte (local entries, then the
central directory, then the end records) finds its own end; zipfile then reads a window that
ends there. Python's zipfile writes absolute offsets into an archive written at a position > 0;
zipfile's reader corrects for that itself ("concat") inside the window.
"""
import io
import struct

LOCAL, CENTRAL, DESCRIPTOR = b"PK\x03\x04", b"PK\x01\x02", b"PK\x07\x08"
END64, LOCATOR64, END = b"PK\x06\x06", b"PK\x06\x07", b"PK\x05\x06"
USE_DESCRIPTOR = 0x08   # flag bit 3: the sizes follow the data (an archive written to a pipe)
SCAN_CHUNK = 1 << 20


def _read_exact(fh, n):
    data = fh.read(n)
    return data if len(data) == n else None


def _zip64_sizes(extra, csize):
    """(the compressed size, whether the entry has a zip64 extra field (id 1)) from a local
    header's extra field: the zip64 field holds the uncompressed size, then the compressed one,
    each only where the header holds 0xFFFFFFFF; a local header holding one holds both."""
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        if tag == 1:
            if csize == 0xFFFFFFFF and size >= 16:
                csize = struct.unpack_from("<Q", extra, at + 12)[0]
            return csize, True
        at += 4 + size
    return csize, False


def _after_descriptor(fh, data_start, zip64):
    """The position after an entry's data descriptor: the first descriptor signature whose
    compressed size equals the bytes between data_start and it (the data may hold the signature
    itself); None if there is none."""
    size_fmt = "<Q" if zip64 else "<I"
    width = struct.calcsize(size_fmt)
    pos, tail = data_start, b""
    fh.seek(data_start)
    while True:
        chunk = fh.read(SCAN_CHUNK)
        if not chunk:
            return None
        buf, base = tail + chunk, pos - len(tail)
        hit = buf.find(DESCRIPTOR)
        while hit >= 0:
            q = base + hit
            here = fh.tell()
            fh.seek(q + 8)   # signature, crc, then the compressed size
            raw = _read_exact(fh, width)
            fh.seek(here)
            if raw is not None and struct.unpack(size_fmt, raw)[0] == q - data_start:
                return q + 8 + 2 * width
            hit = buf.find(DESCRIPTOR, hit + 1)
        pos += len(chunk)
        tail = buf[-3:]


def archive_end(fh, start):
    """The position just past the zip archive that begins at `start` in the seekable binary
    stream fh, or None where no complete archive begins there (truncated, corrupt, not a zip).
    Reads the headers only, not the entries' data (except to find a data descriptor)."""
    pos = start
    fh.seek(pos)
    sig = fh.read(4)
    while sig == LOCAL:   # 30-byte header, name, extra, data (sizes in the header or its zip64 extra)
        head = _read_exact(fh, 26)
        if head is None:
            return None
        flags, csize, name_len, extra_len = struct.unpack("<2xH10xI4xHH", head)
        extra = _read_exact(fh, name_len + extra_len)
        if extra is None:
            return None
        csize, zip64 = _zip64_sizes(extra[name_len:], csize)
        data_start = pos + 30 + name_len + extra_len
        if flags & USE_DESCRIPTOR:
            pos = _after_descriptor(fh, data_start, zip64)
            if pos is None:
                return None
        else:
            pos = data_start + csize
        fh.seek(pos)
        sig = fh.read(4)
    while sig == CENTRAL:   # 46-byte entries with name, extra and comment
        head = _read_exact(fh, 42)
        if head is None:
            return None
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", head, 24)
        pos += 46 + name_len + extra_len + comment_len
        fh.seek(pos)
        sig = fh.read(4)
    if sig == END64:   # zip64 end record (its size counts from after the size field), then its locator
        raw = _read_exact(fh, 8)
        if raw is None:
            return None
        pos += 12 + struct.unpack("<Q", raw)[0]
        fh.seek(pos)
        if fh.read(4) != LOCATOR64:
            return None
        pos += 20
        fh.seek(pos)
        sig = fh.read(4)
    if sig != END:
        return None
    head = _read_exact(fh, 18)
    if head is None:
        return None
    comment_len = struct.unpack_from("<H", head, 16)[0]
    if comment_len and _read_exact(fh, comment_len) is None:
        return None
    return pos + 22 + comment_len


class Window(io.RawIOBase):
    """The bytes [start, end) of the seekable stream fh as a stream of their own (positions
    count from start; reading stops at end). fh's own position is left wherever reads put it."""

    def __init__(self, fh, start, end):
        super().__init__()
        self._fh, self._start, self._size, self._pos = fh, start, end - start, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def read(self, n=-1):
        left = max(self._size - self._pos, 0)
        n = left if n is None or n < 0 else min(n, left)
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(n)
        self._pos += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
