# Figure 3 (accuracy) and Figure 4 (EKL) over sigma_d, one panel per model/dataset, PNG and PDF
# (neft/analysis/figures.py: FIGURES).


rule figure:
    input:
        runs=rules.aggregate.output.runs,
        config=rules.checked_config.output[0],
    output:
        **figure_outputs("{figure}", lambda w: FIGURES[w.figure].label),
    log:
        f"{RESULTS}/logs/{{figure}}.log",
    wildcard_constraints:
        figure="|".join(FIGURES),
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft figures {wildcards.figure} --runs {input.runs} --config {input.config}"
        " --out {output.png} {output.pdf} {output.data} > {log} 2>&1"
