# Sourced by the in-guest test scripts (tests/qemu/guest/*.sh), which run under hw-test with
# their output on ttyS1 (the harness's test.log). POSIX sh (busybox).
# Verdict lines: "HW-TEST: PASS <what>" / "HW-TEST: FAIL <what>"; the host side greps them.
hw_failed=0
hw_pass() { echo "HW-TEST: PASS $*"; }
hw_fail() { echo "HW-TEST: FAIL $*"; hw_failed=1; }
hw_check() { # hw_check WHAT COMMAND...: PASS or FAIL by the command's status
    what=$1; shift
    if "$@"; then hw_pass "$what"; else hw_fail "$what"; fi
}
hw_up() { system-control is-active "$1" >/dev/null 2>&1; }
hw_wait_up() { # hw_wait_up NAME SECONDS
    n=$(($2 * 5))
    while [ "$n" -gt 0 ]; do
        hw_up "$1" && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}
hw_show() { # hw_show NAME KEY: one KEY=value line of `system-control show NAME`
    system-control show "$1" 2>/dev/null | sed -n "s/^$2=//p"
}
hw_comm() { cat "/proc/$1/comm" 2>/dev/null; }
hw_wait_state() { # hw_wait_state NAME STATE SECONDS: until `show` says State=STATE
    n=$(($3 * 5))
    while [ "$n" -gt 0 ]; do
        [ "$(hw_show "$1" State)" = "$2" ] && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}
hw_uptime() { read -r u _ </proc/uptime; echo "$u"; }
hw_main_pid() { # the pid a service runs as, from /proc (comm of its run program)
    for d in /proc/[0-9]*; do
        read -r c <"$d/comm" 2>/dev/null || continue
        [ "$c" = "$1" ] && { echo "${d#/proc/}"; return 0; }
    done
    return 1
}
hw_reading() { # hw_reading PID: the process is blocked reading a terminal (at its prompt)
    case $(cat "/proc/$1/wchan" 2>/dev/null) in wait_woken | n_tty_read) return 0 ;; esac
    return 1
}
hw_wait_prompt() { # hw_wait_prompt PATTERN [N] SECONDS: until N (default 1) processes whose
    # name matches PATTERN read a terminal, i.e. have printed their prompts, which the host then
    # looks for on the console. A slow or loaded machine may take long to get there: a fixed
    # sleep would race it.
    hw_pat=$1 hw_want=1 hw_left=$(($2 * 5))
    [ $# -gt 2 ] && { hw_want=$2 hw_left=$(($3 * 5)); }
    while [ "$hw_left" -gt 0 ]; do
        hw_got=0
        for hw_d in /proc/[0-9]*; do
            read -r hw_c 2>/dev/null <"$hw_d/comm" || continue
            case $hw_c in $hw_pat) hw_reading "${hw_d#/proc/}" && hw_got=$((hw_got + 1)) ;; esac
        done
        [ "$hw_got" -ge "$hw_want" ] && return 0
        sleep 0.2
        hw_left=$((hw_left - 1))
    done
    return 1
}
hw_done() { # end of the script: say so, then end the machine the way $1 says
    echo "HW-TEST: END failed=$hw_failed"
    case ${1:-poweroff} in
        poweroff | reboot | halt | kexec) system-control "$1" ;;
    esac
    sleep 60
}
