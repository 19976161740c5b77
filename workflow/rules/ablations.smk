# Table 1, Table 2, the other ablations, the initialisation sensitivity and the convergence count (their
# runs are in EVALUATED, see common.smk), and the beta search table. Each: tidy CSV, Markdown (for
# report.md), HTML and LaTeX.


rule ablation_table:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        **table_outputs("{table}", lambda w: ABLATION_TABLES[w.table]),
    wildcard_constraints:
        table="|".join(ABLATION_TABLES),
    params:
        setting=setting_flags(ABLATIONS),
        stand_ins=STAND_IN_FLAGS,
    log:
        f"results/{NAME}/logs/{{table}}.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables {wildcards.table} --runs {input.runs} --out {output} {params.setting}"
        " {params.stand_ins} > {log} 2>&1"


rule convergence:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        **table_outputs("convergence", "Convergence"),
    params:
        setting=setting_flags(CONVERGENCE),
        methods=" ".join(CONVERGENCE["methods"]),
        threshold=CONVERGENCE["threshold"],
        stand_ins=STAND_IN_FLAGS,
    log:
        f"results/{NAME}/logs/convergence.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables convergence --runs {input.runs} --out {output} {params.setting}"
        " --methods {params.methods} --threshold {params.threshold} {params.stand_ins} > {log} 2>&1"


rule beta_table:
    input:
        [f"results/{NAME}/beta/{model}/{dataset}/{method}.csv" for model, dataset, method in SEARCHES],
    output:
        **table_outputs("beta_search", "β search"),
    log:
        f"results/{NAME}/logs/beta_table.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables beta --search {input} --out {output} > {log} 2>&1"
