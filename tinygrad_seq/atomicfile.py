"""Atomic file replacement for checkpoints: write a temp file next to the target, fsync, rename.

The temp file has one fixed name per target, `.<name>.tmp` in the target's folder, so a process
killed mid-write (SIGKILL, out of memory) leaves at most one temp file per target, and the next
write to that target reuses it: nothing piles up. A lock on the temp file (flock, released by the
kernel when its holder dies) makes two saves to one target take turns instead of writing into each
other's temp file. The target's permission bits are kept; a new file gets 0o666 minus the umask, as
open() would give it, without changing the process umask.
"""
import contextlib
import errno
import os

from tinygrad_seq.checkpoint_errors import MissingFolderError   # FileNotFoundError and torch's RuntimeError

try:
    import fcntl
except ImportError:   # not POSIX: no locking, the fixed temp name is still reused
    fcntl = None


def temp_path(path):
    """The one temp file name used for writes to `path`."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.tmp")


def _user_error(e, path, what):
    """The OSError `e` (about the temp file or the folder) retold about the user's `path`."""
    reason = e.strerror or str(e)
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason += f" (is the folder {folder} writable?)"
    elif e.errno == errno.ENOSPC:
        reason += f" (the disk holding {folder} is full)"
    elif e.errno in (errno.EEXIST, errno.ENOTDIR):
        up = folder
        while up != os.path.dirname(up) and not os.path.exists(up):
            up = os.path.dirname(up)
        if os.path.isfile(up):
            reason = f"{up} is a file, not a folder"
    cls = {errno.EACCES: PermissionError, errno.EPERM: PermissionError, errno.ENOENT: MissingFolderError,
           errno.EISDIR: IsADirectoryError}.get(e.errno, OSError)
    err = cls(f"{what}: cannot write {path}: {reason}")
    err.errno = e.errno   # no filename: str(err) stays the message above
    return err


def check_writable(path, what="save", make_folder=False):
    """Raise a clear error now if `path` could not be written later: its folder is missing (or,
    with make_folder, cannot be created) or not writable, or `path` is a folder. Creates and
    removes the temp file, and the folder with make_folder, nothing else."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if make_folder and not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise _user_error(e, path, what) from None
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what}: cannot write {path}: it is a folder")
    if not os.path.isdir(folder):
        raise MissingFolderError(f"{what}: cannot write {path}: the folder {folder} does not exist")
    tmp = temp_path(path)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o666))
            created = True
        except FileExistsError:   # a stale temp file (or a save in progress): only open it
            os.close(os.open(tmp, os.O_WRONLY | nofollow))
            created = False
    except OSError as e:
        raise _user_error(e, path, what) from None
    if created:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _umask():
    """The process umask, read without setting it (Linux's /proc), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return None


def _open_locked(tmp):
    """-> (fd, mode a new file gets), fd of `tmp` opened for writing, truncated, under an
    exclusive lock. A temp file left by a killed save is reused; one being written by another
    live save is waited for."""
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:   # a fresh file gets 0o666 minus the umask from the kernel itself
            fd = os.open(tmp, flags | os.O_CREAT | os.O_EXCL, 0o666)
            new_mode = os.fstat(fd).st_mode & 0o777
        except FileExistsError:
            try:
                fd = os.open(tmp, flags)
            except FileNotFoundError:   # its writer renamed it just now: try again
                continue
            umask = _umask()
            new_mode = 0o666 & ~(0o022 if umask is None else umask)
        if fcntl is None:
            break
        fcntl.flock(fd, fcntl.LOCK_EX)
        # while we waited, the lock's holder may have renamed this inode over its target: only
        # an inode still under the temp name is ours to write
        try:
            same = os.stat(tmp, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    return fd, new_mode


@contextlib.contextmanager
def atomic_write(path, what="save"):
    """`with atomic_write(path) as f:` write to the binary file f; on a clean exit it replaces
    `path` in one rename (after fsync), on an exception or interrupt `path` is untouched and the
    temp file is removed. Errors name `path`, not the temp file."""
    path = os.fspath(path)
    target = os.path.realpath(path) if os.path.islink(path) else path   # a link keeps pointing at the new file
    folder = os.path.dirname(os.path.abspath(target))
    if os.path.isdir(target):
        raise IsADirectoryError(f"{what}: cannot write {path}: it is a folder")
    if not os.path.isdir(folder):
        raise MissingFolderError(f"{what}: cannot write {path}: the folder {folder} does not exist")
    tmp = temp_path(target)
    try:
        fd, mode = _open_locked(tmp)
    except OSError as e:
        raise _user_error(e, path, what) from None
    try:
        with contextlib.suppress(OSError):
            mode = os.stat(target).st_mode & 0o777   # keep the old file's permissions
        f = os.fdopen(fd, "wb", closefd=False)
        try:
            yield f
            f.flush()
            os.fsync(fd)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:
                os.chmod(tmp, mode)
            os.replace(tmp, target)
        finally:
            f.close()
        _fsync_folder(folder)
    except BaseException as e:
        with contextlib.suppress(OSError):
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and getattr(e, "filename", None) in (None, tmp):
            raise _user_error(e, path, what) from None
        raise
    finally:
        os.close(fd)   # releases the lock, after the rename


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
