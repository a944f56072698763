"""Reading /proc on the host about the processes of one namespace.

Pids here are host pids. A namespace's processes are PID 1's descendants (found through
/proc/PID/task/TID/children); ns_pid() gives a process's pid inside its namespace. Readers
return None for a process that vanished meanwhile.
"""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def children(pid):
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            out.extend(int(p) for p in text.split())
    return out


def descendants(pid):
    """pid and all its descendants (host pids), parents before children."""
    out, todo, seen = [], [pid], set()
    while todo and len(out) < 200000:  # bounded: far more than any run creates
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        todo.extend(children(p))
    return out


def comm(pid):
    text = _read(f"/proc/{pid}/comm")
    return text.strip() if text else None


def ns_pid(pid):
    """The pid of host process `pid` in its innermost PID namespace."""
    text = _read(f"/proc/{pid}/status")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None


def pid_ns_inode(pid):
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except (FileNotFoundError, ProcessLookupError):
        return None


def memory_kb(pid):
    """(rss_kb, pss_kb, uss_kb) from smaps_rollup. PSS shares each page among all processes
    mapping it (on the whole machine); USS is the private part only (Private_Clean +
    Private_Dirty), which does not depend on what else runs."""
    text = _read(f"/proc/{pid}/smaps_rollup")
    if text is None:
        return None
    v = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Rss:", "Pss:", "Private_Clean:", "Private_Dirty:"):
            v[parts[0]] = int(parts[1])
    if len(v) != 4:
        return None
    return v["Rss:"], v["Pss:"], v["Private_Clean:"] + v["Private_Dirty:"]


def cpu_ticks(pid, with_children=True):
    """utime+stime (+cutime+cstime: the reaped children's) of a process, in clock ticks."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14 -> index 11.
    t = int(fields[11]) + int(fields[12])
    if with_children:
        t += int(fields[13]) + int(fields[14])
    return t


def context_switches(pid):
    """Voluntary + involuntary context switches of all threads of a process."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return None
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/status")
        if text is None:
            continue
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                total += int(line.split()[1])
    return total


def own_cgroup2_dir():
    """The directory of this process's cgroup in the cgroup2 hierarchy, or None."""
    mount = None
    text = _read("/proc/self/mountinfo") or ""
    for line in text.splitlines():
        pre, _, post = line.partition(" - ")
        if post.split()[:1] == ["cgroup2"]:
            mount = pre.split()[4]
            break
    path = None
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        if line.startswith("0::"):
            path = line[3:]
    if mount is None or path is None:
        return None
    return os.path.normpath(mount + "/" + path)


def cgroup_subdirs(directory):
    """Every cgroup below `directory` (relative paths), bounded."""
    out = set()
    if directory is None:
        return out
    for root, dirs, _files in os.walk(directory):
        for d in dirs:
            out.add(os.path.relpath(os.path.join(root, d), directory))
        if len(out) > 100000:
            break
    return out
