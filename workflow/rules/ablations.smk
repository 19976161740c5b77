# Table 1, Table 2, the other ablations, the initialisation sensitivity and the convergence count (their runs are in EVALUATED, see
# common.smk), and the beta search table. Each: tidy CSV, Markdown, LaTeX.


rule ablation_table:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        csv=report("results/{name}/tables/{table}.csv", category="Tables"),
        md="results/{name}/tables/{table}.md",
        tex="results/{name}/tables/{table}.tex",
    wildcard_constraints:
        table="table1|table2|ablations|init",
    params:
        setting=setting_flags(ABLATIONS),
    log:
        "results/{name}/logs/{table}.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables {wildcards.table} --runs {input.runs} --out {output} {params.setting} > {log} 2>&1"


rule convergence:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        csv=report(f"results/{NAME}/tables/convergence.csv", category="Tables"),
        md=f"results/{NAME}/tables/convergence.md",
        tex=f"results/{NAME}/tables/convergence.tex",
    params:
        setting=setting_flags(CONVERGENCE),
        methods=" ".join(CONVERGENCE["methods"]),
        threshold=CONVERGENCE["threshold"],
    log:
        f"results/{NAME}/logs/convergence.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables convergence --runs {input.runs} --out {output} {params.setting}"
        " --methods {params.methods} --threshold {params.threshold} > {log} 2>&1"


rule beta_table:
    input:
        [f"results/{NAME}/beta/{model}/{dataset}/{method}.csv" for model, dataset, method in SEARCHES],
    output:
        csv=report(f"results/{NAME}/tables/beta_search.csv", category="Tables"),
        md=f"results/{NAME}/tables/beta_search.md",
        tex=f"results/{NAME}/tables/beta_search.tex",
    log:
        f"results/{NAME}/logs/beta_table.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables beta --search {input} --out {output} > {log} 2>&1"
