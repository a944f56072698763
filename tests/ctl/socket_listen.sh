#!/bin/bash
# socket-listen ($LISTEN), the built chain-loader, making real sockets (no root needed): the fds
# the program gets and the LISTEN_* variables, a connection accepted on each kind, the files'
# modes and directories, a stale socket replaced but not a regular file, two socket-listens
# chained, and the exit statuses of the failures (111 for a socket, 100 for the command line,
# 127 for a missing program).
set -u
T=$(mktemp -d /tmp/hw-socket-listen.XXXXXX)
trap 'rm -rf "$T"' EXIT
NAME=socket-listen
source "$(dirname "$0")/cli_lib.sh"

# The program: says it runs (a file), prints LISTEN_* and whether LISTEN_PID is its pid, and
# what each fd from 3 is; serves one connection on each stream socket, reads one datagram and
# one FIFO line.
cat >"$T/server.py" <<'EOF'
import os, socket, stat, sys
open(sys.argv[1], "w").close()  # running: every socket is made and listening
n = int(os.environ["LISTEN_FDS"])
print(os.environ["LISTEN_FDS"], os.environ["LISTEN_PID"] == str(os.getpid()), os.environ["LISTEN_FDNAMES"])
for fd in range(3, 3 + n):
    mode = os.fstat(fd).st_mode
    if stat.S_ISFIFO(mode):
        print(fd, "fifo", os.read(fd, 100).decode().strip())
        continue
    s = socket.socket(fileno=fd)
    print(fd, s.family.name, s.type.name, end=" ")
    if s.type == socket.SOCK_STREAM:
        c, _ = s.accept()
        print(c.recv(100).decode())
        c.close()
    else:
        print(s.recv(100).decode())
sys.stdout.flush()
EOF
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 400); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
PORT=$(free_port)

"$LISTEN" --stream "$T/run/sub/s.sock" --mode 0600 --directory-mode 0750 \
    --datagram "@hw-socket-listen-$$" --fifo "$T/run/f.fifo" --stream "127.0.0.1:$PORT" \
    --name test -- python3 "$T/server.py" "$T/running" >"$T/served" 2>"$T/server.err" &
server=$!
wait_for "$T/running" || fail "the program did not run"
python3 - "$T" "$$" "$PORT" <<'EOF'
import socket, sys, time
t, pid, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = socket.socket(socket.AF_UNIX); u.connect(t + "/run/sub/s.sock"); u.sendall(b"over unix"); u.close()
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.sendto(b"a datagram", "\0hw-socket-listen-" + pid)
open(t + "/run/f.fifo", "w").write("through the fifo\n")
c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"over tcp"); c.close()
EOF
wait "$server"
same "what the program got" "4 True test:test:test:test
3 AF_UNIX SOCK_STREAM over unix
4 AF_UNIX SOCK_DGRAM a datagram
5 fifo through the fifo
6 AF_INET SOCK_STREAM over tcp" "$(cat "$T/served")"
same "the socket's mode" "srw-------" "$(stat -c %A "$T/run/sub/s.sock")"
same "the directory's mode" "drwxr-x---" "$(stat -c %A "$T/run/sub")"
same "the FIFO's mode (--mode is for every file)" "prw-------" "$(stat -c %A "$T/run/f.fifo")"

# A stale socket file (its server gone) is replaced; a regular file is not.
expect 0 "$LISTEN" --stream "$T/run/sub/s.sock" -- sh -c 'echo $LISTEN_FDS $LISTEN_FDNAMES'
same "a stale socket replaced" "1 unknown" "$out"
: >"$T/plain"
expect 111 "$LISTEN" --stream "$T/plain" -- true
has "a regular file in the way" "$err" "socket-listen: error: $T/plain: bind: Address already in use"
same "the regular file is kept" "-rw-r--r--" "$(stat -c %A "$T/plain")"

# Chained, one per socket unit: the second's sockets follow the first's, the names join.
expect 0 "$LISTEN" --stream "$T/a.sock" --name a -- "$LISTEN" --datagram "$T/b.sock" \
    --fifo "$T/c.fifo" --name b -- sh -c \
    'echo $LISTEN_FDS $LISTEN_FDNAMES $(stat -L -c %F /proc/$$/fd/3 /proc/$$/fd/4 /proc/$$/fd/5)'
same "chained" "3 a:b:b socket socket fifo" "$out"
# Another process's LISTEN_* (not ours) is no earlier socket-listen's.
expect 0 env LISTEN_PID=1 LISTEN_FDS=5 LISTEN_FDNAMES=x "$LISTEN" --stream "$T/d.sock" -- \
    sh -c 'echo $LISTEN_FDS $LISTEN_FDNAMES'
same "another LISTEN_PID" "1 unknown" "$out"

# Every address: IPv6 with IPv4 too (or IPv4 alone without IPv6).
PORT=$(free_port)
"$LISTEN" --stream "$PORT" -- python3 "$T/server.py" "$T/running6" >"$T/served6" 2>&1 &
server=$!
for _ in $(seq 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT)).sendall(b'any')" \
        2>/dev/null && break
    sleep 0.05
done
wait "$server"
case $(sed -n 2p "$T/served6") in
    "3 AF_INET6 SOCK_STREAM any" | "3 AF_INET SOCK_STREAM any") ;;
    *) fail "PORT alone: $(cat "$T/served6")" ;;
esac

# --owner and --group: a name or a number; an unknown name fails before the program runs.
expect 0 "$LISTEN" --stream "$T/owned.sock" --owner "$(id -un)" --group "$(id -g)" -- true
same "owner and group" "$(id -u) $(id -g)" "$(stat -c '%u %g' "$T/owned.sock")"
expect 111 "$LISTEN" --stream "$T/unowned.sock" --owner no-such-user-here -- true
has "an unknown user" "$err" "$T/unowned.sock: no such user: no-such-user-here"
expect 111 "$LISTEN" --stream "$T/unowned.sock" --group 12x -- true
has "not a number" "$err" "no such group: 12x"

# Failures: the socket, the command line, the program.
expect 111 "$LISTEN" --stream 192.0.2.1:80 -- true
has "an address not ours" "$err" "socket-listen: error: 192.0.2.1:80: bind: Cannot assign requested address"
expect 100 "$LISTEN" --stream 1.2.3:80 -- true
has "a bad address" "$err" "socket-listen: error: 1.2.3:80: not an IPv4 address"
expect 100 "$LISTEN" --stream "$T/x.sock"
has "no program" "$err" "no program to run after --"
expect 127 "$LISTEN" --stream "$T/x.sock" -- "$T/no-such-program"
has "a missing program" "$err" "unable to run $T/no-such-program: No such file or directory"
expect 0 "$LISTEN" --help
has "--help" "$out" "usage: socket-listen"
cli_done
