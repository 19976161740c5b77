# The tables of neft/analysis/tables.py (TABLES): those read from runs.csv at a setting (Table 1, Table 2,
# the other ablations, the initialisation sensitivity, the convergence count; their runs are in EVALUATED,
# see grid.smk), and the beta search table. Each: tidy CSV, Markdown (for report.md), HTML and LaTeX.
RUNS_TABLES = [name for name, table in TABLES.items() if table.setting]


rule table:
    input:
        runs=rules.aggregate.output.runs,
        config=rules.checked_config.output[0],
    output:
        **table_outputs("{table}", lambda w: TABLES[w.table].label),
    log:
        f"{RESULTS}/logs/{{table}}.log",
    wildcard_constraints:
        table="|".join(RUNS_TABLES),
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables {wildcards.table} --runs {input.runs} --config {input.config} --out {output}"
        " > {log} 2>&1"


rule beta_table:
    input:
        [rules.beta_search.output.table.format(model=m, dataset=d, method=method) for m, d, method in SEARCHES],
    output:
        **table_outputs("beta_search", TABLES["beta"].label),
    log:
        f"{RESULTS}/logs/beta_table.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables beta --search {input} --out {output} > {log} 2>&1"
