"""bench/stacks.png from the tables bench/stacks.py wrote into BENCHMARKS.md: per page, each
stack's CPU per request, req/s and p99 as ratios to the generated default (medians of the
per-round ratios; PSS is in the tables).

    /opt/tgdeploy-lab/py3/bin/python bench/stacks_chart.py   # bench/run stacks runs it
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import BENCHMARKS, HERE  # noqa: E402

MEASURES = (('CPU ms/request', 4), ('req/s', 6), ('p99', 9))


def tables():
    """[(page title, [(stack, [ratios...])])] from the stacks block."""
    with open(BENCHMARKS) as f:
        text = f.read()
    block = text.split('<!-- begin output of bench/stacks.py')[1].split(
        '<!-- end output of bench/stacks.py')[0]
    pages = []
    for title, body in re.findall(r'\*\*(.+?)\*\* \(\d+ requests per measurement\)\n\n'
                                  r'((?:\|.*\n)+)', block):
        rows = []
        for line in body.strip().split('\n')[2:]:
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows.append((cells[0], [float(cells[i]) for _, i in MEASURES]))
        pages.append((title, rows))
    return pages


def main():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    pages = tables()
    fig, axes = plt.subplots(1, len(pages), figsize=(6 * len(pages), 6), sharey=True)
    for ax, (title, rows) in zip(axes, pages):
        labels = [stack for stack, _ in rows]
        height = 0.8 / len(MEASURES)
        for n, (name, _) in enumerate(MEASURES):
            ax.barh([i + n * height for i in range(len(rows))], [r[1][n] for r in rows],
                    height=height, label=name + ', ratio to the default')
        ax.axvline(1.0, color='black', linewidth=0.8)
        ax.set_yticks([i + height for i in range(len(rows))])
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8, loc='lower right')
    fig.suptitle('Production stacks against tgdeploy\'s default (bench/stacks.py, a loaded '
                 'machine): lower is better but for req/s', fontsize=11)
    fig.tight_layout()
    path = os.path.join(HERE, 'stacks.png')
    fig.savefig(path, dpi=100)
    print('written to %s' % path)


if __name__ == '__main__':
    main()
