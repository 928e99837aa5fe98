"""The charts of tools/bench.py, as plain SVG (no plotting library needed)."""
import math

COLORS = ["#3b6fb6", "#e08a2c", "#4a9a4a", "#b0413e", "#7b5ea7", "#8c6d31", "#2a9d9d"]


def _bars(title, groups, keys, labels, path, floor=1.0):
    """A horizontal bar chart on a log scale: for each (name, {key: value}) of groups, one bar
    per key, labelled with its value; a legend names the keys."""
    w, bar, gap, left = 820, 13, 10, 120
    h = 50 + len(groups) * (len(keys) * bar + gap) + 16 * len(keys)
    values = [g[k] for _, g in groups for k in keys if k in g and g[k] == g[k]]
    top = max(values + [floor * 10])
    scale = (w - left - 80) / math.log10(top / floor * 1.5)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (w, h),
           '<text x="4" y="16" font-size="13">%s</text>' % title]
    y = 30
    for name, g in groups:
        out.append('<text x="4" y="%d">%s</text>' % (y + bar * len(keys) // 2 + 4, name))
        for k, color in zip(keys, COLORS):
            v = g.get(k, float("nan"))
            ww = max(1.0, math.log10(max(v, floor) / floor) * scale) if v == v else 1.0
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y, ww, bar - 2, color))
            out.append('<text x="%.1f" y="%d">%s</text>' % (left + ww + 4, y + bar - 3,
                                                           "%.1f" % v if v == v and v < 100 else
                                                           "%.0f" % v if v == v else "-"))
            y += bar
        y += gap
    for k, label, color in zip(keys, labels, COLORS):
        out.append('<rect x="4" y="%d" width="10" height="10" fill="%s"/>' % (y, color))
        out.append('<text x="20" y="%d">%s</text>' % (y + 9, label))
        y += 16
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def ratios(rows, path):
    """umbra / native per operation, cycles and instructions."""
    _bars("umbra / native per operation (log scale)", [(r["op"], r) for r in rows], ["ratio_tsc", "ratio_icount"],
          ["cycles (TSC)", "instructions (-icount shift=0)"], path)


def settings(rows, labels, path):
    """umbra's instructions per operation on each paging workload under each setting."""
    groups = {}
    for r in rows:
        groups.setdefault(r["op"], {})[r["setting"]] = r["umbra_icount"]
    _bars("umbra instructions per operation by paging setting (log scale)", list(groups.items()),
          [label for label, _ in labels], ["%s: %s" % lw for lw in labels], path)
