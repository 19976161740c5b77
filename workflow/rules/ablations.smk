# Table 1, Table 2, the other ablations and the convergence count (their runs are in EVALUATED, see
# common.smk), and the beta search table. Each: tidy CSV, Markdown, LaTeX.


rule table1:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        csv=report(f"results/{NAME}/tables/table1.csv", category="Tables"),
        md=f"results/{NAME}/tables/table1.md",
        tex=f"results/{NAME}/tables/table1.tex",
    params:
        setting=setting_flags(ABLATIONS),
    log:
        f"results/{NAME}/logs/table1.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables table1 --runs {input.runs} --out {output} {params.setting} > {log} 2>&1"


rule table2:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        csv=report(f"results/{NAME}/tables/table2.csv", category="Tables"),
        md=f"results/{NAME}/tables/table2.md",
        tex=f"results/{NAME}/tables/table2.tex",
    params:
        setting=setting_flags(ABLATIONS),
    log:
        f"results/{NAME}/logs/table2.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables table2 --runs {input.runs} --out {output} {params.setting} > {log} 2>&1"


rule ablations:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        csv=report(f"results/{NAME}/tables/ablations.csv", category="Tables"),
        md=f"results/{NAME}/tables/ablations.md",
        tex=f"results/{NAME}/tables/ablations.tex",
    params:
        setting=setting_flags(ABLATIONS),
    log:
        f"results/{NAME}/logs/ablations.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft tables ablations --runs {input.runs} --out {output} {params.setting} > {log} 2>&1"


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
