"""hwbench: heartwood's side-by-side benchmark against s6, runit and the container inits.

Entry point: bench/run (see bench/README.md). Modules:
  inotify    a ctypes binding of inotify(7) and a watcher of the services' pid files
  procs      reading /proc on the host: process trees, memory, CPU time, context switches
  namespace  one init as PID 1 of a fresh user+PID+mount namespace, and its teardown
  inits      the adapters: how each init is configured, booted and shut down
  scenarios  S1..S9
  report     the table (markdown, JSON) and the plot (PNG)
"""
