# All MC results -> per-seed rows (runs.csv) and mean, std, Student-t CI95 over seeds (summary.csv).


rule aggregate:
    input:
        mc_files(EVALUATED),
    output:
        runs=f"results/{NAME}/aggregate/runs.csv",
        summary=report(f"results/{NAME}/aggregate/summary.csv", category="Aggregates"),
    params:
        root=lambda w: f"results/{NAME}/mc",  # where the run layout starts
    log:
        f"results/{NAME}/logs/aggregate.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft aggregate --root {params.root} --runs {output.runs} --summary {output.summary} {input}"
        " > {log} 2>&1"
