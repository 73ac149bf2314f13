"""``gpc report``: a markdown table (and a plot) from ``gpc eval`` JSON files."""

from __future__ import annotations

import argparse

from gpc_planner.outputs import check_output_file
from gpc_planner.report import (
    load_results,
    markdown_table,
    plot_over_samples,
    plot_success,
    series_over_samples,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="table and plot of gpc eval results",
                       description="Print a markdown table of evaluation results (success "
                       "with Wilson 95% interval, steps, CEM sample ratio, plan time), in the "
                       "order given, and optionally plot the success rates. A run still going is "
                       "reported from its journal (OUT.json.partial.jsonl): the trials "
                       "finished so far, marked in progress.")
    p.add_argument("results", nargs="+", metavar="RESULT.json",
                   help="gpc eval --out files, or the .partial.jsonl journal of one still running")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="also save a bar plot")
    p.add_argument("--samples-plot", default=None, metavar="FILE.png",
                   help="also save the NFMPC paper's Figs. 1/3: success rate and trajectory "
                   "cost of the successes (median, quartiles) over the samples per iteration "
                   "(--rollouts), one line per task and method")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for plot in (args.plot, args.samples_plot):
        if plot:
            check_output_file(plot, "plot")  # before the table, not after it
    results = load_results(args.results)
    if args.samples_plot:
        series_over_samples(results)  # a clash of two results is an error before any output
    print(markdown_table(results))
    if args.plot:
        print(f"plot: {plot_success(results, args.plot)}")
    if args.samples_plot:
        print(f"samples plot: {plot_over_samples(results, args.samples_plot)}")
    return 0
