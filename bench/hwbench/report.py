"""The results: metric definitions, the table (markdown and text), JSON, and the PNG plot.

A cell is "median (min-max)" over the samples, or the reason there is no number. The ratio
column of each peer is heartwood's median divided by the peer's (below 1: heartwood smaller,
which for every metric here means better).
"""
import json
import statistics

INITS = ["heartwood", "s6", "runit", "runsvdir", "tini", "dumb-init", "catatonit", "floor"]
PEERS = INITS[1:]

# id -> (scenario label, unit, goal)
METRICS = {
    "S1.pid1_rss": ("S1 PID 1 RSS", "MB", ""),
    "S1.pid1_pss": ("S1 PID 1 PSS", "MB", "<= s6-svscan"),
    "S1.pid1_uss": ("S1 PID 1 USS (private)", "MB", ""),
    "S1.sup_pss": ("S1 PSS of PID 1 + supervisors, 100 services", "MB", "< s6 / 10"),
    "S1.sup_uss": ("S1 USS of PID 1 + supervisors, 100 services", "MB", ""),
    "S2.up100": ("S2 bring-up of 100 services", "s", ""),
    "S2.up1000": ("S2 bring-up of 1,000 services", "s", "3x faster than s6, runit"),
    "S3.restart": ("S3 restart after SIGKILL (up > 1 s)", "ms", "< 1 ms"),
    "S3.restart_ready": ("S3 restart after SIGKILL, s6 with notification-fd", "ms", "< 1 ms"),
    "S3.crash_first": ("S3 crash loop: first restart", "ms", "immediate"),
    "S3.crash_starts": ("S3 crash loop: starts in the window", "count", ""),
    "S3.crash_cpu": ("S3 crash loop: CPU of the namespace", "% of a CPU", "low"),
    "S4.reap": ("S4 reaping orphans", "s", "<= fastest peer"),
    "S5.recover": ("S5 kill -9 -1, 100 services back", "s", "< s6 / 10"),
    "S6.shutdown": ("S6 orderly shutdown, 100 services", "ms", "<= s6"),
    "S7.pid1_cs": ("S7 idle: PID 1 context switches", "count", "0"),
    "S7.sup_cs": ("S7 idle: PID 1 + supervisors context switches", "count", "0"),
    "S8.plan1000": ("S8 system-control -n start, 1,000 bundles, cache current", "ms", ""),
    "S8.cold1000": ("S8 system-control -n start, 1,000 bundles, no cache", "ms", ""),
    "S8.read1000": ("S8 reading 1,000 bundles from disk (plan_bench, best of 5)", "ms", ""),
    "S8.cached1000": ("S8 checking and loading the cached read, 1,000 (plan_bench, best of 5)", "ms", ""),
    "S8.planonly1000": ("S8 planning, 1,000 (plan_bench, best of 5)", "ms", ""),
    "S8.plan10000": ("S8 system-control -n start, 10,000 bundles, cache current", "ms", "< 100 ms"),
    "S8.cold10000": ("S8 system-control -n start, 10,000 bundles, no cache", "ms", ""),
    "S8.read10000": ("S8 reading 10,000 bundles from disk (plan_bench, best of 5)", "ms", ""),
    "S8.cached10000": ("S8 checking and loading the cached read, 10,000 (plan_bench, best of 5)", "ms", ""),
    "S8.planonly10000": ("S8 planning, 10,000 (plan_bench, best of 5)", "ms", ""),
    "S9.boot": ("S9 boot to normal in qemu", "s", ""),
}


# Rows that compare a peer variant with heartwood's number from another row.
BORROWED = {"S3.restart_ready": {"heartwood": "S3.restart"}}


def stats(values):
    return statistics.median(values), min(values), max(values)


def fmt_num(x):
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    a = abs(x)
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def summarize(bench):
    """{metric: {init: {"median", "min", "max", "n"} or {"note"}}} plus ratios."""
    out = {}
    for metric in METRICS:
        row = {}
        for init in INITS:
            source = BORROWED.get(metric, {}).get(init, metric)
            vals = bench.samples.get(source, {}).get(init)
            note = bench.notes.get(source, {}).get(init)
            if vals:
                med, lo, hi = stats(vals)
                row[init] = {"median": med, "min": lo, "max": hi, "n": len(vals)}
                if note:
                    row[init]["note"] = note
            elif note:
                row[init] = {"note": note}
        hw = row.get("heartwood", {}).get("median")
        for peer in PEERS:
            pm = row.get(peer, {}).get("median")
            if hw is not None and pm not in (None, 0):
                row[peer]["ratio"] = hw / pm
        if row:
            out[metric] = row
    return out


def cell(c, with_ratio=True):
    if c is None:
        return ""
    if "median" not in c:
        return "n/a" if c["note"].startswith("n/a") else c["note"]
    text = fmt_num(c["median"])
    if c["n"] > 1:
        text += f" ({fmt_num(c['min'])}-{fmt_num(c['max'])})"
    if with_ratio and "ratio" in c:
        text += f" [x{c['ratio']:.2g}]"
    if c.get("note"):
        text += " *"
    return text


def markdown(summary, header_lines):
    lines = list(header_lines)
    lines.append("")
    lines.append("| scenario | unit | goal | " + " | ".join(INITS) + " |")
    lines.append("|---|---|---|" + "---|" * len(INITS))
    footnotes = []
    for metric, (label, unit, goal) in METRICS.items():
        row = summary.get(metric)
        if not row:
            continue
        cells = []
        for init in INITS:
            c = row.get(init)
            if c and "median" in c and c.get("note"):
                footnotes.append(f"\\* {label}, {init}: {c['note']}")
            cells.append(cell(c).replace("|", "/"))
        lines.append(f"| {label} | {unit} | {goal} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Cells: median (min-max) over the repetitions; [xR] is the ratio heartwood/peer "
                 "of the medians (below 1: heartwood is lower). floor is not an init: "
                 "bench-floor (bench/floor.cpp) only runs each service again the moment it "
                 "ends, so its column is what the services alone cost on this machine.")
    reasons = sorted({c["note"] for row in summary.values() for c in row.values()
                      if "median" not in c and c["note"].startswith("n/a")})
    if reasons:
        lines.append("")
        lines.append("n/a: " + "; ".join(r[len("n/a: "):] for r in reasons) + ".")
    lines.extend(footnotes)
    return "\n".join(lines) + "\n"


def text_table(summary):
    """A plain table for the terminal."""
    rows = [["scenario", "unit"] + INITS]
    for metric, (label, unit, _goal) in METRICS.items():
        row = summary.get(metric)
        if not row:
            continue
        cells = []
        for init in INITS:
            c = row.get(init)
            if c and "median" not in c:
                note = c["note"]
                cells.append("n/a" if note.startswith("n/a") else
                             "not avail." if note.startswith("not avail") else
                             "FAILED" if note.startswith("failed") else note.split(":")[0])
            else:
                cells.append(cell(c))
        rows.append([label, unit] + cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def write_json(path, summary, meta):
    with open(path, "w") as f:
        json.dump({"meta": meta, "results": summary}, f, indent=1, sort_keys=True)


def plot(path, summary, title):
    """One small bar chart per metric (log scale when the values span a wide range): bars are
    medians, whiskers min-max, heartwood first."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in METRICS if m in summary and
               any("median" in c for c in summary[m].values())]
    if not metrics:
        return False
    cols = 4
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    colours = {"heartwood": "#2e7d32", "s6": "#1565c0", "runit": "#6a1b9a", "runsvdir": "#ab47bc",
               "tini": "#ef6c00",
               "dumb-init": "#c62828", "catatonit": "#00838f", "floor": "#9e9e9e"}
    for ax in axes.flat[len(metrics):]:
        ax.axis("off")
    for ax, metric in zip(axes.flat, metrics):
        label, unit, goal = METRICS[metric]
        row = summary[metric]
        names, meds, los, his, cols_, hatches = [], [], [], [], [], []
        for init in INITS:
            c = row.get(init)
            if c and "median" in c:
                names.append(init + ("*" if c.get("note") else ""))
                meds.append(c["median"])
                los.append(c["median"] - c["min"])
                his.append(c["max"] - c["median"])
                cols_.append(colours[init])
                hatches.append("//" if c.get("note") else "")
        x = range(len(names))
        bars = ax.bar(x, meds, color=cols_, yerr=[los, his], capsize=3, ecolor="#444")
        for b, h in zip(bars, hatches):
            b.set_hatch(h)
        ax.set_xticks(list(x))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        positive = [m for m in meds if m > 0]
        if positive and max(positive) / max(min(positive), 1e-9) > 30:
            ax.set_yscale("log")
        for xi, m in zip(x, meds):
            ax.annotate(fmt_num(m), (xi, m), ha="center", va="bottom", fontsize=7)
        # Inits with a reason instead of a number (not the n/a ones) are named under the bars.
        reasons = [f"{i}: {row[i]['note'].split(':')[0]}" for i in INITS
                   if i in row and "median" not in row[i] and not row[i]["note"].startswith("n/a")]
        t = label if len(label) < 52 else label[:50] + "..."
        if goal:
            t += f"\ngoal: {goal}"
        ax.set_title(t, fontsize=8)
        ax.margins(y=0.15)
        if meds and max(meds) == 0:
            ax.set_ylim(0, 1)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        if reasons:
            ax.text(0.01, 0.97, "\n".join(reasons), transform=ax.transAxes, ha="left",
                    va="top", fontsize=7, color="#b00")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.975))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
