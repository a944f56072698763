#!/bin/bash
# CLI tests: the built system-control ($SC) on the fixture trees ($FIXTURES), checking output and
# exit codes of the offline verbs, --dry-run plans, the signals sent by init/halt/... (to a
# catcher process named by HEARTWOOD_INIT_PID, never to the real process 1), the personalities,
# and the failures when no service-manager is there.
set -u
T=$(mktemp -d /tmp/hw-cli.XXXXXX)
catcher_pid=
cleanup() {
    [ -n "$catcher_pid" ] && kill "$catcher_pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
NAME=cli
source "$(dirname "$0")/cli_lib.sh"
export HEARTWOOD_BUNDLE_PATH=$FIXTURES/basic
export HEARTWOOD_CONTROL_SOCKET=$T/no-such-socket
export HEARTWOOD_PRESET_PATH=$T/presets
unset HEARTWOOD_INIT_PID

# --- usage and exit codes
expect 0 "$SC" --help
has "--help" "$out" "111  system failure"
has "--help" "$out" "list-dependencies"
has "--help" "$out" "start the kexec target"
expect 100 "$SC" kexec now
expect 100 "$SC"
expect 100 "$SC" frobnicate
has "unknown verb" "$err" "unknown command 'frobnicate'"
expect 100 "$SC" --frob start x
expect 100 "$SC" start
expect 0 "$SC" version

# --- plans
expect 0 "$SC" start -n normal
# cache is disabled (it has a down file): web's wants/cache does not start it.
same "start -n normal" "start normal: 6 bundles in 2 waves
   0 start db
   0 start getty
   0 start multi-user
   0 start normal
   0 start web-log
   1 start web  after db web-log" "$out"
expect 0 "$SC" -n start shutdown
same "start -n shutdown" "start shutdown: 4 bundles in 3 waves
   0 stop  getty
   0 stop  web
   1 stop  db  after web
   2 start shutdown  after db getty web" "$out"
expect 0 "$SC" stop -n db
same "stop -n db" "stop db: 2 bundles in 2 waves
   0 stop  web
   1 stop  db  after web" "$out"
expect 1 "$SC" start -n normal rescue
same "conflict" "system-control: error: unable to plan the job: web would be both started (start normal -> wants web) and stopped (start rescue -> conflicts web)" "$err"
expect 0 "$SC" start -n cache
same "start -n cache (named, so started though disabled)" "start cache: 1 bundle in 1 wave
   0 start cache" "$out"
expect 1 "$SC" start -n nope
has "missing bundle" "$err" "unable to find bundle nope"
HEARTWOOD_BUNDLE_PATH=$FIXTURES/cycles expect 0 "$SC" start -n all
has "cycle warning" "$err" "ordering cycle a -> b -> c -> a (-> means waits for): ignoring the wait c -> a"

# --- check
expect 0 "$SC" check
HEARTWOOD_BUNDLE_PATH=$FIXTURES/broken expect 1 "$SC" check
same "check broken: lines" 11 "$(echo "$out" | wc -l)"
has "check broken" "$out" "note: $FIXTURES/broken/services/good/wants/nowhere: dangling link to ../../nowhere"
has "check broken" "$out" "/services/badtimeout/service/timeout-start:1: not a number of seconds"
has "check broken" "$out" "/services/badcgroup/service/cgroup/cgroup.procs: not a cgroup setting"
has "check broken" "$err" "10 problems"
HEARTWOOD_BUNDLE_PATH=$FIXTURES/broken expect 0 "$SC" cat badcgroup
has "cat shows cgroup settings" "$out" "# cgroup/memory.max: 64M"
# A want that leads nowhere (yet) is a note, not a problem; a requirement is.
HEARTWOOD_BUNDLE_PATH=$FIXTURES/missing expect 1 "$SC" check
has "check missing" "$out" "note: $FIXTURES/missing/services/app/wants/extras: dangling link to /run/service-bundles/targets/not-generated-yet: no such bundle (yet); ignored"
has "check missing" "$out" "$FIXTURES/missing/services/app/requires/db: dangling link to ../../uninstalled-db: a requirement"
has "check missing" "$err" "1 problem in"
HEARTWOOD_BUNDLE_PATH=$FIXTURES/missing expect 0 "$SC" list-dependencies normal
same "list-dependencies, missing requirement" "normal
  wants app
    requires uninstalled-db (no such bundle)" "$out"
HEARTWOOD_BUNDLE_PATH=$FIXTURES/missing expect 0 "$SC" start -n app
has "start -n, missing requirement" "$out" "start uninstalled-db  (no such bundle: fails, and so does what requires it)"
HEARTWOOD_BUNDLE_PATH=$FIXTURES/cycles expect 1 "$SC" check
has "check cycles" "$out" "ordering cycle: a -> b -> c -> a"

# --- find, cat, list-dependencies, is-enabled
expect 0 "$SC" find web normal.target
same "find" "$FIXTURES/basic/services/web
$FIXTURES/basic/targets/normal" "$out"
expect 1 "$SC" find web nope
expect 0 "$SC" cat web
has "cat" "$out" "requires/db -> ../../db"
has "cat" "$out" "# $FIXTURES/basic/services/web/service/run"
has "cat" "$out" "log -> ../web-log"
expect 0 "$SC" list-dependencies normal
same "list-dependencies" "normal
  wants multi-user
    wants getty
  wants web
    wants cache
    requires db
    log web-log" "$out"
expect 0 "$SC" list-dependencies --reverse db
same "list-dependencies --reverse" "db
  required by web
    wanted by normal
    conflicted by rescue
    conflicted by shutdown
  conflicted by shutdown" "$out"
expect 0 "$SC" is-enabled web
same "is-enabled web" enabled "$out"
expect 1 "$SC" is-enabled web cache
same "is-enabled web cache" "enabled
disabled" "$out"

# --- enable, disable, preset on a copy
cp -a "$FIXTURES/basic" "$T/tree"
export HEARTWOOD_BUNDLE_PATH=$T/tree
expect 0 "$SC" enable -n cache
same "enable -n cache" "remove $T/tree/services/cache/down" "$out"
[ -e "$T/tree/services/cache/down" ] || fail "enable -n changed something"
expect 0 "$SC" enable web
[ "$(readlink "$T/tree/targets/multi-user/wants/web")" = "$T/tree/services/web" ] ||
    fail "enable web: no multi-user/wants/web"
expect 0 "$SC" disable web
[ -e "$T/tree/targets/multi-user/wants/web" ] && fail "disable web left multi-user/wants/web"
expect 1 "$SC" is-enabled web
mkdir -p "$T/presets"
printf 'enable web\ndisable *\n' > "$T/presets/50-x.preset"
expect 0 "$SC" preset web db
expect 0 "$SC" is-enabled web
expect 1 "$SC" is-enabled db
export HEARTWOOD_BUNDLE_PATH=$FIXTURES/basic

# --- signals to process 1 (a catcher standing in for it)
# sent EXPECTED COMMAND...: runs COMMAND against the catcher; the offsets it got, sorted (RT
# signals pending together are delivered lowest first, so only the set can be checked here).
sent() {
    want=$1
    shift
    : > "$T/sig"
    HEARTWOOD_INIT_PID=$catcher_pid "$@" >"$T/out" 2>"$T/err" || fail "$* exited $? ($(cat "$T/err"))"
    n=$(echo "$want" | wc -w)
    for _ in $(seq 50); do [ "$(wc -l < "$T/sig")" -ge "$n" ] && break; sleep 0.1; done
    sleep 0.1
    got=$(sort -n "$T/sig" | tr '\n' ' ' | sed 's/ $//')
    same "signals of $*" "$want" "$got"
}
"$CATCHER" "$T/sig" &
catcher_pid=$!
for _ in $(seq 50); do [ -e "$T/sig.ready" ] && break; sleep 0.1; done
sent "0 10" "$SC" init
sent "1 10" "$SC" init quiet -s splash
sent "2" "$SC" init -b 3
sent "4" "$SC" init 0
sent "3" "$SC" halt
sent "14" "$SC" poweroff -f
sent "5" "$SC" reboot
sent "6" "$SC" kexec
sent "16" "$SC" kexec -f
sent "16" "$SC" kexec --force
sent "4:0" "$SC" exit
sent "4:3" "$SC" exit 3
sent "14:255" "$SC" exit -f 255
sent "4:7" "$SC" exit exit 7
sent "4:143" "$SC" exit term TERM 15
sent "14:139" "$SC" exit --force crash SEGV 11 core
for bad in 256 x "exit" "exit 300" "kill KILL" "term TERM 0" "crash SEGV 11 dump"; do
    # shellcheck disable=SC2086 # the words are the arguments
    HEARTWOOD_INIT_PID=$catcher_pid expect 100 "$SC" exit $bad
    has "exit $bad" "$err" "exit: expected a status of 0-255"
done
HEARTWOOD_INIT_PID=$catcher_pid expect 0 "$SC" exit -n kill KILL 9
same "exit -n kill KILL 9" "would send SIGRTMIN+4 (poweroff) with exit status 137 to process $catcher_pid" "$out"
sent "2" "$SC" emergency
sent "1 10" "$SC" rescue
sent "0 10" "$SC" normal
ln -s "$SC" "$T/reboot"
ln -s "$SC" "$T/halt"
ln -s "$SC" "$T/shutdown"
ln -s "$SC" "$T/telinit"
ln -s "$SC" "$T/runlevel"
sent "15" "$T/reboot" -f
sent "4" "$T/halt" -p
sent "5" "$T/shutdown" -r now
sent "4" "$T/shutdown" +0
sent "1 10" "$T/telinit" 1
expect 0 "$T/runlevel"
same "runlevel" "N N" "$out"
expect 100 "$T/telinit" 9
: > "$T/sig"
HEARTWOOD_INIT_PID=$catcher_pid expect 0 "$SC" init -n b
same "init -n b" "boot mode: emergency
would send SIGRTMIN+2 (emergency) to process $catcher_pid" "$out"
sleep 0.2
[ -s "$T/sig" ] && fail "init -n sent signals: $(cat "$T/sig")"

# --- without a service-manager
expect 111 "$SC" start normal
has "start without manager" "$err" "unable to connect to the service-manager at $T/no-such-socket"
expect 111 "$SC" status web
expect 111 "$SC" is-active web
expect 111 "$SC" show web
has "show offline" "$out" "Requires=db"
has "show offline" "$out" "Log=web-log"
expect 111 "$SC" show --json web
has "show --json offline" "$out" '"Wants":["cache"]'

cli_done
