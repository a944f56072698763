#!/bin/bash
# convert-systemd-units, the built system-control ($SC) on the unit files in
# $FIXTURES/systemd: converted into an /etc-like bundle root beside a copy of the shipped units
# (units/, as /usr/share/service-bundles), the result passes `check` with no problem, links
# lead where they should, enable works on it; then the error cases, --dry-run, re-conversion.
# Last, when the cached Debian root exists, a smoke run over its units (counts only).
set -u
T=$(mktemp -d /tmp/hw-convert-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
NAME=convert
source "$(dirname "$0")/cli_lib.sh"
U=$FIXTURES/systemd
cp -a "$UNITS" "$T/usr"
export HEARTWOOD_BUNDLE_PATH=$T/etc:$T/usr
export HEARTWOOD_PRESET_PATH=$T/presets

link_is() { # link_is PATH TEXT
    [ "$(readlink "$1")" = "$2" ] || fail "$1 -> '$(readlink "$1")', not '$2'"
}

# --- the good units, in one run: clean, apart from the warnings they deserve
good="webapp.service db.service prepare-data.service legacyd.service worker@a.service
      worker@b.service app.target www.service control-api.socket control-api-admin.socket"
expect 0 "$SC" convert-systemd-units --bundle-root "$T/etc" $(for u in $good; do echo "$U/$u"; done)
has "summary" "$err" "9 units: 7 converted cleanly, 1 with warnings, 1 skipped, 0 failed"
has "PIDFile" "$err" "$U/legacyd.service:6: unused: PIDFile="
has "KillMode" "$err" "$U/legacyd.service:8: KillMode=process: heartwood stops every process"
has "alias" "$err" "$U/www.service: an alias of webapp.service: not converted"
[ -e "$T/etc/services/www" ] && fail "the alias www was converted"
for b in services/webapp services/db services/prepare-data services/legacyd services/worker@a \
    services/worker@b targets/app services/control-api; do
    [ -x "$T/etc/$b/service/run" ] || [ "$b" = targets/app ] || fail "$b has no run program"
    [ -d "$T/etc/$b" ] || fail "$b was not written"
done
leftovers=$(find "$T/etc" -mindepth 2 -maxdepth 2 -name '.*')
[ -z "$leftovers" ] || fail "temporary directories left: $leftovers"

# The result passes the linter with no problem (the dangling network-online want is a note).
expect 0 "$SC" check
has "check" "$err" "no problems in"
has "check notes" "$out" "note: $T/etc/services/webapp/wants/network-online: dangling link"

# Links: relative inside the root, absolute to the shipped targets.
link_is "$T/etc/services/webapp/requires/db" ../../db
link_is "$T/etc/services/webapp/after/db" ../../db
link_is "$T/etc/services/webapp/after/basic" "$T/usr/targets/basic"
link_is "$T/etc/services/webapp/requires/sysinit" "$T/usr/targets/sysinit"
link_is "$T/etc/services/webapp/wanted-by/multi-user" "$T/usr/targets/multi-user"
link_is "$T/etc/services/webapp/stopped-by/shutdown" "$T/usr/targets/shutdown"
link_is "$T/etc/services/prepare-data/before/webapp" ../../webapp
link_is "$T/etc/targets/app/wants/worker@a" ../../../services/worker@a
link_is "$T/etc/services/worker@a/requires/app" ../../../targets/app

# The programs: the drop-in replaced ExecStart=, the instance's drop-in hid the template's.
run=$(cat "$T/etc/services/webapp/service/run")
has "webapp run" "$run" 'exec /usr/bin/webapp --listen "${LISTEN}" --workers "${WORKERS}" ${WEBAPP_OPTS}'
has "webapp run" "$run" "export WORKERS=4"
has "webapp run" "$run" "cd /srv/webapp"
has "webapp start" "$(cat "$T/etc/services/webapp/service/start")" "/usr/bin/test -d /srv/webapp"
has "webapp restart" "$(cat "$T/etc/services/webapp/service/restart")" "exec sleep 2"
has "worker@a nice" "$(cat "$T/etc/services/worker@a/service/run")" "renice -n 5 "
has "worker@b nice" "$(cat "$T/etc/services/worker@b/service/run")" "renice -n 10 "
has "worker@b log" "$(cat "$T/etc/services/worker@b/service/run")" "exec 1>>/var/log/worker-b.log 2>&1"
# A socket unit, named alone, is converted with its service (once for both of its sockets, the
# second found by its Service=): chained socket-listens make them.
has "control-api run" "$(cat "$T/etc/services/control-api/service/run")" \
    "exec socket-listen --name control-api.socket --stream /run/control-api.sock --mode 0660 -- socket-listen --name control-api-admin.socket --stream /run/control-api-admin.sock --mode 0600 -- /usr/bin/control-api"
link_is "$T/etc/services/control-api/wanted-by/multi-user" "$T/usr/targets/multi-user"
[ -e "$T/etc/services/db/service/sd_notify" ] || fail "db has no sd_notify"
[ "$(cat "$T/etc/services/db/service/timeout-start")" = 120 ] || fail "db timeout-start"
[ "$(cat "$T/etc/services/db/service/timeout-stop")" = 0 ] || fail "db timeout-stop"
[ "$(cat "$T/etc/services/db/service/watchdog-timeout")" = 30 ] || fail "db watchdog-timeout"
[ -e "$T/etc/services/legacyd/service/remain" ] || fail "legacyd (forking) has no remain"
[ -e "$T/etc/services/prepare-data/service/ready_after_run" ] || fail "prepare-data is no oneshot"
# Every program parses, under dash and under busybox sh.
for f in "$T"/etc/services/*/service/{run,start,stop,restart}; do
    [ -e "$f" ] || continue
    for sh in dash "busybox sh"; do
        command -v "${sh% *}" >/dev/null || continue
        $sh -n "$f" || fail "$sh -n $f"
    done
done

# Nothing is enabled by the conversion; enable then works on what it wrote.
[ -e "$T/usr/targets/multi-user/wants/webapp" ] && fail "the conversion enabled webapp"
expect 0 "$SC" enable webapp
link_is "$T/usr/targets/multi-user/wants/webapp" "$T/etc/services/webapp"
expect 0 "$SC" list-dependencies normal
has "list-dependencies" "$out" "wants webapp"
expect 0 "$SC" start -n webapp
has "start -n webapp" "$out" "start db"
has "start -n webapp" "$out" "start webapp  after db sysinit"

# --- what cannot be converted: an error each, the others still converted, exit status 1
rm -rf "$T/etc2"
expect 1 "$SC" convert-systemd-units --bundle-root "$T/etc2" "$U/broken.service" \
    "$U/bad-specifier.service" "$U/two-commands.service" "$U/ssh-like.socket" "$U/cleanup.timer" \
    "$U/masked.service" "$U/no-such.service" "$U/legacyd.service"
has "broken" "$err" "error: $U/broken.service:1: Description= comes before any [section]"
has "broken" "$err" "error: $U/broken.service:4: not an assignment (no '=')"
has "specifier" "$err" "error: $U/bad-specifier.service:2: ExecStart=: unknown specifier %z"
has "two commands" "$err" "error: $U/two-commands.service:3: Type=simple needs exactly one ExecStart="
has "socket" "$err" "error: $U/ssh-like.socket: not supported: Accept=yes (ssh-like@.service, a service instance per connection)"
has "timer" "$err" "error: $U/cleanup.timer:2: OnCalendar=Mon..Funday: 'Mon..Funday': not a weekday"
has "masked" "$err" "warning: $U/masked.service: masked"
has "missing" "$err" "error: $U/no-such.service: no such file"
has "summary" "$err" "8 units: 0 converted cleanly, 1 with warnings, 1 skipped, 6 failed"
[ "$(ls "$T/etc2/services")" = legacyd ] || fail "errors wrote bundles: $(ls "$T/etc2/services")"
expect 100 "$SC" convert-systemd-units
has "usage" "$err" "no unit file named"

# --- --dry-run prints and writes nothing
expect 0 "$SC" convert-systemd-units -n --bundle-root "$T/dry" "$U/db.service"
has "dry run" "$out" "== $T/dry/services/db"
has "dry run" "$out" "-- service/run (executable)"
has "dry run" "$out" "-- after/basic -> $T/usr/targets/basic"
[ -e "$T/dry" ] && fail "--dry-run wrote $T/dry"

# --- converting again replaces the bundle, keeping the administrator's down file
touch "$T/etc/services/db/service/down" "$T/etc/services/db/service/leftover"
expect 0 "$SC" convert-systemd-units --bundle-root "$T/etc" "$U/db.service"
[ -e "$T/etc/services/db/service/down" ] || fail "re-conversion lost the down file"
[ -e "$T/etc/services/db/service/leftover" ] && fail "re-conversion kept an old file"
expect 1 "$SC" is-enabled db

# --- smoke: the units of the cached Debian root (counts only; never fails the test)
root_tar=$(ls /root/.cache/heartwood/debian/bookworm-minbase-*.tar.gz 2>/dev/null | head -1)
if [ -n "$root_tar" ] && [ -r "$root_tar" ]; then
    mkdir "$T/debian"
    tar -xzf "$root_tar" -C "$T/debian" --wildcards './usr/lib/systemd/system/*' 2>/dev/null
    set -- "$T"/debian/usr/lib/systemd/system/*.service "$T"/debian/usr/lib/systemd/system/*.timer \
        "$T"/debian/usr/lib/systemd/system/*.socket
    if [ -e "$1" ]; then
        "$SC" convert-systemd-units --bundle-root "$T/debian-bundles" "$@" 2>"$T/debian.err"
        echo "convert: Debian's units: $(tail -1 "$T/debian.err")"
        echo "convert: warnings: $(grep -c ': warning: ' "$T/debian.err")," \
            "errors: $(grep -c ': error: ' "$T/debian.err")"
    fi
fi

cli_done
