# NeFT replication pipeline: train -> evaluate (Monte-Carlo) -> aggregate -> Figure 3, Figure 4,
# Table 1, Table 2, ablations, convergence count -> report. See docs/pipeline.md.
#   snakemake --cores all                                    config/config.yaml (smoke grid, any CPU)
#   snakemake --cores all --configfile config/quick.yaml     one GPU, about an hour


# A --configfile replaces the default rather than being merged into it, so grids never mix keys.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/report.smk"


localrules:
    all,
    fetch,
    aggregate,
    beta_search,
    figure3,
    figure4,
    ablation_table,
    convergence,
    beta_table,
    report,
    report_html,


rule all:
    input:
        f"results/{NAME}/report.md",
        f"results/{NAME}/report.html",
        [f"figures/{NAME}/figure{n}.{ext}" for n in (3, 4) for ext in ("png", "pdf")],
        [path for table in TABLES for path in table_files(table)],
        # Snakemake remakes a missing file only for a target that needs it: listed here, an MC result
        # deleted after the grid finished is made again, and with it runs.csv and all that reads it
        mc_files(EVALUATED),
    default_target: True
