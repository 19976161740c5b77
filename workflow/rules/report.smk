# The replication report: every regenerated number beside the paper's, a verdict per claim; as Markdown
# and as one self-contained HTML page (figures embedded) for a browser and the Snakemake report.
FIGURE_PNGS = expand(rules.figure.output.png, figure=FIGURES)
TABLE_FILES = [*expand(list(rules.table.output), table=RUNS_TABLES), *rules.beta_table.output]


rule report:
    input:
        runs=rules.aggregate.output.runs,
        config=rules.checked_config.output[0],
        figures=FIGURE_PNGS,
        tables=[*expand(rules.table.output.md, table=RUNS_TABLES), rules.beta_table.output.md],
        benchmarks=at(rules.train.benchmark, EVALUATED + [c for s in SEARCHES for c in beta_candidates(*s)])
        + at(rules.evaluate.benchmark, EVALUATED),
    output:
        f"{RESULTS}/report.md",
    log:
        f"{RESULTS}/logs/report.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft report --runs {input.runs} --config {input.config} --out {output} --figures {input.figures}"
        " --tables {input.tables} --benchmarks {input.benchmarks} > {log} 2>&1"


rule report_html:
    input:
        md=rules.report.output[0],
        figures=FIGURE_PNGS,  # embedded in the page
    output:
        report(
            f"{RESULTS}/report.html",
            caption="../report/report.rst",
            category="Report",
            labels={"file": "replication report"},
        ),
    log:
        f"{RESULTS}/logs/report_html.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft html {input.md} --out {output} > {log} 2>&1"
