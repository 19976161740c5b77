# Figure 3 (accuracy) and Figure 4 (EKL) over sigma_d, one panel per model/dataset, PNG and PDF.


rule figure3:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        **figure_outputs("figure3", "Figure 3"),
    params:
        grid=GRID_FLAGS,
        stand_ins=STAND_IN_FLAGS,
    log:
        f"results/{NAME}/logs/figure3.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft figures figure3 --runs {input.runs} --out {output.png} {output.pdf} {params.grid}"
        " {params.stand_ins} > {log} 2>&1"


rule figure4:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
    output:
        **figure_outputs("figure4", "Figure 4"),
    params:
        grid=GRID_FLAGS,
        stand_ins=STAND_IN_FLAGS,
    log:
        f"results/{NAME}/logs/figure4.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft figures figure4 --runs {input.runs} --out {output.png} {output.pdf} {params.grid}"
        " {params.stand_ins} > {log} 2>&1"
