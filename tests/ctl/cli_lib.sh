# What the CLI test scripts share (sourced): failures counted by fail, commands run by expect,
# texts compared by same and has. The script sets NAME (its messages' prefix) and T (a scratch
# directory) first, and ends with cli_done.
failures=0
fail() { echo "$NAME: FAIL: $*" >&2; failures=$((failures + 1)); }

# expect STATUS COMMAND...: runs it, keeps stdout in $out and stderr in $err.
expect() {
    want=$1
    shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
    [ "$got" = "$want" ] || fail "$* exited $got, not $want (stderr: $err)"
}
same() { # same WHAT EXPECTED ACTUAL
    [ "$2" = "$3" ] || fail "$1: expected
$2
--- got
$3"
}
has() { # has WHAT TEXT NEEDLE
    case $2 in *"$3"*) ;; *) fail "$1: no '$3' in: $2" ;; esac
}
cli_done() {
    [ "$failures" = 0 ] || { echo "$NAME: $failures failures" >&2; exit 1; }
    echo "$NAME: ok"
}
