# Figure 3 (accuracy) and Figure 4 (EKL) over sigma_d, one panel per model/dataset, PNG and PDF.


rule figure3:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        png=report(f"figures/{NAME}/figure3.png", caption="../report/figure3.rst", category="Figures"),
        pdf=f"figures/{NAME}/figure3.pdf",
    params:
        grid=GRID_FLAGS,
    log:
        f"results/{NAME}/logs/figure3.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft figures figure3 --runs {input.runs} --out {output.png} {output.pdf} {params.grid} > {log} 2>&1"


rule figure4:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        png=report(f"figures/{NAME}/figure4.png", caption="../report/figure4.rst", category="Figures"),
        pdf=f"figures/{NAME}/figure4.pdf",
    params:
        grid=GRID_FLAGS,
    log:
        f"results/{NAME}/logs/figure4.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft figures figure4 --runs {input.runs} --out {output.png} {output.pdf} {params.grid} > {log} 2>&1"
