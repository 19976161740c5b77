# NeFT replication pipeline: train -> evaluate (Monte-Carlo) -> aggregate -> Figure 3, Figure 4,
# Table 1, Table 2, ablations, convergence count -> report. See docs/pipeline.md, docs/architecture.md.
#   snakemake --cores all                                    config/config.yaml (smoke grid, any CPU)
#   snakemake --cores all --configfile config/quick.yaml     one GPU
# Jobs and times of each grid: BENCHMARKS.md, Grid sizes and times.
# The helpers import neft: Snakemake puts this file's folder (the repository root) first on sys.path.


# A --configfile replaces the default rather than being merged into it, so grids never mix keys.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/config.smk"
include: "workflow/rules/paths.smk"
include: "workflow/rules/grid.smk"
include: "workflow/rules/flags.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/targets.smk"


localrules:
    all,
    fetch,
    aggregate,
    checked_config,
    beta_search,
    figure,
    table,
    beta_table,
    report,
    report_html,


rule all:
    default_target: True
    input:
        rules.report_html.output,
        expand(list(rules.figure.output), figure=FIGURES),
        TABLE_FILES,
        # Snakemake remakes a missing file only for a target that needs it: listed here, an MC result
        # deleted after the grid finished is made again, and with it runs.csv and all that reads it
        at(rules.evaluate.output.result, EVALUATED),


onsuccess:
    if Path(rules.report_html.output[0]).exists():
        print(
            f"\nThe replication report: {rules.report_html.output[0]} (Markdown: {rules.report.output[0]}); "
            f"figures in {FIGURES_DIR}/, tables in {RESULTS}/tables/\n"
        )
