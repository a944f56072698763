#!/bin/bash
# convert-systemd-units end to end: systemd units written here are converted, then started by
# the real system-control under the real system-manager (PID 1 of a user+PID+mount namespace)
# and service-manager, and their behaviour is checked: the environment and working directory a
# daemon sees, a requirement started first, a oneshot's ExecStartPre= and ExecStart= lines and
# its ExecStopPost=, sd_notify readiness (when systemd-notify is installed), Restart=on-failure
# after a crash, Restart=no after a failure, a condition that does not hold, and a socket unit:
# the service gets its socket by LISTEN_FDS, and a restart makes it again; a timer unit that
# starts its oneshot service again and again, until it is stopped.
source "$(dirname "$0")/lib.sh"
SC=$BUILD_DIR/ctl/system-control
W=$(mktemp -d /tmp/hw-e2e-convert.XXXXXX)
trap 'cleanup; rm -rf "$W"' EXIT
mkdir -p "$W/units" "$W/work" "$W/usr/targets"
BUNDLES=$W/etc:$W/usr
sc() { in_ns env HEARTWOOD_BUNDLE_PATH="$BUNDLES" HEARTWOOD_CACHE_DIR= "$SC" "$@"; }
state() { sc show "$1" | sed -n 's/^State=//p'; }
state_is() { [ "$(state "$1")" = "$2" ]; }
lines() { [ -e "$1" ] && wc -l <"$1" || echo 0; }
at_least() { [ "$(lines "$1")" -ge "$2" ]; }  # at_least FILE N: FILE has N lines or more

# The targets a boot needs (the shipped ones would run udev and friends): up at once.
for t in sysinit basic multi-user normal shutdown poweroff; do
    mkdir -p "$W/usr/targets/$t/service"
    : >"$W/usr/targets/$t/service/remain"
done
mkdir -p "$W/usr/targets/poweroff/wants" "$W/usr/targets/poweroff/after"
ln -s ../../shutdown "$W/usr/targets/poweroff/wants/shutdown"
ln -s ../../shutdown "$W/usr/targets/poweroff/after/shutdown"
printf '#!/bin/sh\nexec system-control poweroff --force\n' >"$W/usr/targets/poweroff/service/run"
chmod +x "$W/usr/targets/poweroff/service/run"
rm "$W/usr/targets/poweroff/service/remain"

cat >"$W/units/greeter.service" <<EOF
[Unit]
Description=Greets with what it was given
Requires=prepare.service
After=prepare.service

[Service]
Environment="GREETING=hello world" "QUOTE=it's \\"quoted\\""
EnvironmentFile=$W/greeter.env
EnvironmentFile=-$W/missing.env
WorkingDirectory=$W/work
ExecStart=/bin/sh -c 'echo greeter >> $W/order; pwd > seen.pwd; env > seen.env; exec sleep 1000'
EOF
printf '# read when greeter starts\nFROM_FILE="from the file"\n' >"$W/greeter.env"
cat >"$W/units/prepare.service" <<EOF
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=/bin/sh -c 'echo pre >> $W/prepare.log'
ExecStart=/bin/sh -c 'echo one >> $W/prepare.log'
ExecStart=/bin/sh -c 'echo two >> $W/prepare.log; echo prepare >> $W/order'
ExecStopPost=/bin/sh -c 'echo post >> $W/prepare.log'
EOF
cat >"$W/units/notifier.service" <<EOF
[Service]
Type=notify
ExecStart=/bin/sh -c 'until [ -e $W/go ]; do sleep 0.05; done; systemd-notify --ready; exec sleep 1000'
EOF
cat >"$W/units/flaky.service" <<EOF
[Service]
ExecStart=/bin/sh -c 'echo run >> $W/flaky.runs; [ -e $W/crashed ] || { touch $W/crashed; kill -SEGV \$\$\$\$; }; exec sleep 1000'
Restart=on-failure
RestartSec=0
EOF
cat >"$W/units/once.service" <<EOF
[Service]
ExecStart=/bin/sh -c 'echo run >> $W/once.runs; exit 1'
EOF
cat >"$W/units/skipped.service" <<EOF
[Unit]
ConditionPathExists=$W/nonexistent

[Service]
ExecStart=/bin/sh -c 'echo run >> $W/skipped.runs; exec sleep 1000'
Restart=always
EOF

# Socket activation: echoer serves one connection on the socket it was given, then exits, and
# Restart=always runs it again (with the socket made again).
cat >"$W/echoer.py" <<'EOF'
import os, socket
s = socket.socket(fileno=3)
c, _ = s.accept()
c.sendall("{} {} {} {}\n".format(os.environ["LISTEN_FDS"], os.environ["LISTEN_FDNAMES"],
                                  os.environ["LISTEN_PID"] == str(os.getpid()), os.getpid()).encode())
c.close()
EOF
cat >"$W/units/echoer.service" <<EOF
[Service]
ExecStart=/usr/bin/python3 $W/echoer.py
Restart=always
RestartSec=0
EOF
cat >"$W/units/echoer.socket" <<EOF
[Socket]
ListenStream=$W/run/echo.sock
SocketMode=0600
EOF
# A timer: 0.5 s after it starts, then 1 s after each start of ticker.
cat >"$W/units/ticker.timer" <<EOF
[Timer]
OnActiveSec=500ms
OnUnitActiveSec=1s
EOF
cat >"$W/units/ticker.service" <<EOF
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo tick >> $W/ticks'
EOF
ask_echoer() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(s.makefile().readline().strip())' "$W/run/echo.sock" >"$W/echoed" 2>/dev/null
}

HEARTWOOD_BUNDLE_PATH=$BUNDLES HEARTWOOD_CACHE_DIR= \
    "$SC" convert-systemd-units --bundle-root "$W/etc" "$W"/units/*.service "$W"/units/*.timer \
    2>"$W/convert.err"
check "the units convert" [ $? = 0 ]
no_warning() { ! grep -q ': warning: ' "$W/convert.err"; }
check "without a warning" no_warning
cat "$W/convert.err"

BOOT_PATH="$BUILD_DIR/daemon:$BUILD_DIR/ctl:/usr/sbin:/usr/bin:/sbin:/bin" \
    boot HEARTWOOD_BUNDLE_PATH="$BUNDLES" HEARTWOOD_CACHE_DIR= HEARTWOOD_NO_CGROUPS=1 || exit 1
wait_for "the normal target" 60 sc is-active normal || { finish; exit 1; }

# A daemon with its environment and working directory, after the oneshot it requires.
check "start greeter (and prepare, which it requires)" sc start greeter
wait_for "greeter's environment" 10 test -s "$W/work/seen.env"
check "greeter is ready" state_is greeter ready
check "prepare is ready (RemainAfterExit=yes)" state_is prepare ready
check "prepare ran before greeter" [ "$(cat "$W/order")" = "$(printf 'prepare\ngreeter')" ]
check "prepare: ExecStartPre=, then both ExecStart= lines" \
    [ "$(cat "$W/prepare.log")" = "$(printf 'pre\none\ntwo')" ]
check "greeter runs in WorkingDirectory=" [ "$(cat "$W/work/seen.pwd")" = "$W/work" ]
check "Environment= with quotes and blanks" grep -qx 'GREETING=hello world' "$W/work/seen.env"
check "Environment= with escaped quotes" grep -qx "QUOTE=it's \"quoted\"" "$W/work/seen.env"
check "EnvironmentFile= read at start" grep -qx 'FROM_FILE=from the file' "$W/work/seen.env"
# Stopping what greeter requires stops greeter first, then prepare's ExecStopPost= runs.
check "stop prepare" sc stop prepare
check "greeter stopped with it" state_is greeter stopped
check "prepare's ExecStopPost= ran" [ "$(tail -1 "$W/prepare.log")" = post ]

# Type=notify: ready only when it says so.
if command -v systemd-notify >/dev/null; then
    sc start notifier &
    job=$!
    wait_for "notifier to run" 10 state_is notifier running
    sleep 0.3
    check "notifier is not ready before READY=1" state_is notifier running
    check "its start job waits for READY=1" kill -0 "$job"
    touch "$W/go"
    wait "$job"
    check "the start job succeeded once READY=1 came" [ $? = 0 ]
    check "notifier is ready" state_is notifier ready
else
    echo "skip: no systemd-notify here, Type=notify is not checked"
fi

# Restart=on-failure: the crash is followed by a restart, which then runs.
check "start flaky" sc start flaky
wait_for "flaky's second run" 20 at_least "$W/flaky.runs" 2
wait_for "flaky to be up again" 10 state_is flaky ready
check "flaky ran twice" [ "$(lines "$W/flaky.runs")" = 2 ]
check "flaky restarted once" [ "$(sc show flaky | sed -n 's/^Restarts=//p')" = 1 ]

# Restart=no (systemd's default): a failure is not run again.
sc start once
wait_for "once to fail" 10 state_is once failed
sleep 1
check "once ran once" [ "$(lines "$W/once.runs")" = 1 ]
check "once is still failed" state_is once failed

# A condition that does not hold: not started, not failed, not restarted (Restart=always).
sc start skipped
wait_for "skipped to be stopped" 10 state_is skipped stopped
check "skipped's command never ran" [ ! -e "$W/skipped.runs" ]
check "the log says why" log_has "skipped: ConditionPathExists=$W/nonexistent does not hold"

# A socket unit: made by the service's run program before python runs, passed as fd 3.
check "start echoer" sc start echoer
wait_for "echoer's socket" 10 ask_echoer
first=$(cat "$W/echoed")
check "echoer got one socket, named, for its own pid" [ "${first% *}" = "1 echoer.socket True" ]
check "the socket has SocketMode=" [ "$(stat -c %a "$W/run/echo.sock")" = 600 ]
wait_for "echoer's socket, made again after the restart" 20 ask_echoer
second=$(cat "$W/echoed")
check "a new echoer answered (restarted: ${first##* } then ${second##* })" \
    [ "${second% *}" = "1 echoer.socket True" -a "${second##* }" != "${first##* }" ]

# A oneshot without RemainAfterExit=: its start job succeeds once it has run, and it is done.
check "start ticker (a oneshot that is done once it ran)" sc start ticker
check "ticker ran" [ "$(lines "$W/ticks")" = 1 ]
check "ticker is stopped, not failed" state_is ticker stopped
# A timer unit: its service (the bundle ticker.timer) starts ticker each time.
check "start ticker.timer" sc start ticker.timer
wait_for "three more ticks" 20 at_least "$W/ticks" 4
check "ticker.timer is up" state_is ticker.timer ready
check "ticker itself is not left running" [ "$(state ticker)" != running ]
check "stop ticker.timer" sc stop ticker.timer
ticks=$(lines "$W/ticks")
sleep 2
check "no tick once the timer is stopped ($ticks, then $(lines "$W/ticks"))" \
    [ "$(lines "$W/ticks")" = "$ticks" ]

kill -TERM "$P1"
wait_exit 60
check "a clean poweroff (status 130)" [ "$STATUS" = 130 ]
if [ "$FAILURES" != 0 ]; then
    echo "--- system log (last 40 lines):"
    tail -n 40 "$T/log/current" 2>/dev/null
fi
finish
