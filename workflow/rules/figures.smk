# Figure 3 (accuracy) and Figure 4 (EKL) over sigma_d, one panel per model/dataset, PNG and PDF
# (neft/analysis/figures.py: FIGURES).


rule figure:
    input:
        runs=rules.aggregate.output.runs,
    output:
        **figure_outputs("{figure}", lambda w: FIGURES[w.figure].label),
    log:
        f"{RESULTS}/logs/{{figure}}.log",
    wildcard_constraints:
        figure="|".join(FIGURES),
    conda:
        "../envs/neft.yaml"
    params:
        grid=GRID_FLAGS,
        stand_ins=STAND_IN_FLAGS,
    shell:
        "python -m neft figures {wildcards.figure} --runs {input.runs} --out {output.png} {output.pdf} {output.data}"
        " {params.grid} {params.stand_ins} > {log} 2>&1"
