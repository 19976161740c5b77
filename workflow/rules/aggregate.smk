# All MC results -> per-seed rows (runs.csv) and mean, std, Student-t CI95 over seeds (summary.csv).


rule aggregate:
    input:
        at(rules.evaluate.output.result, EVALUATED),
    output:
        runs=f"{RESULTS}/aggregate/runs.csv",
        summary=report(f"{RESULTS}/aggregate/summary.csv", category="Aggregates"),
    log:
        f"{RESULTS}/logs/aggregate.log",
    conda:
        "../envs/neft.yaml"
    params:
        root=lambda w: f"{RESULTS}/mc",  # where the run layout starts
    shell:
        "python -m neft aggregate --root {params.root} --runs {output.runs} --summary {output.summary} {input}"
        " > {log} 2>&1"
