# What every analysis step reads: the MC results as per-seed rows (runs.csv) with their means over seeds
# (summary.csv), and the checked config (config.json).


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


rule checked_config:
    output:
        f"{RESULTS}/config.json",
    log:
        f"{RESULTS}/logs/checked_config.log",
    params:
        # the config as config.smk checked it, defaults filled in: a change of its content (and only that)
        # rewrites the file, and so reruns the figures, tables and report
        checked=json.dumps(config, indent=1, sort_keys=True) + "\n",
    run:
        save_text(output[0], params.checked)
