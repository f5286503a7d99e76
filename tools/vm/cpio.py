"""Minimal writer for the "newc" cpio format the kernel unpacks as initramfs.

Writing the archive here, instead of running cpio(1) over a staging folder,
gives every file root ownership and the mode we choose without needing root
or fakeroot, and lets a VM's archive be the shared base plus a small overlay
(the kernel unpacks concatenated archives in order).
"""

import os
import stat


class Writer:
    """Builds one newc archive in memory."""

    def __init__(self):
        self._out = bytearray()
        self._ino = 1
        self._dirs = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        name_b = name.encode() + b"\0"
        header = "070701" + "".join(
            "%08x" % v
            for v in (self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
        )
        self._ino += 1
        self._out += header.encode() + name_b
        self._pad()
        self._out += data
        self._pad()

    def _pad(self):
        self._out += b"\0" * (-len(self._out) % 4)

    def dir(self, path):
        """Adds `path` and its missing parents as directories (0755)."""
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self._dirs:
                self._dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        if "/" in path:
            self.dir(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFREG | mode, data)

    def copy(self, path, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        if mode is None:
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
        self.file(path, data, mode)

    def symlink(self, path, target):
        path = path.strip("/")
        if "/" in path:
            self.dir(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self._out += b"\0" * (-len(self._out) % 512)
        return bytes(self._out)
