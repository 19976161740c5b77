# Monte-Carlo noisy inference of every trained model over its sigma grid (common random numbers:
# the noise of run r at sigma s depends on (eval.seed, s, r) only, the same for every method).


rule evaluate:
    input:
        model=rules.train.output.model,
        data=fetched,
    output:
        result=f"{RESULTS}/mc/{RUN}.json",
        rows=f"{RESULTS}/mc/{RUN}.csv",
    log:
        f"{RESULTS}/logs/evaluate/{RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{RUN}.tsv"
    conda:
        "../envs/neft.yaml"
    threads: config["resources"]["evaluate"]["threads"]
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=config["resources"]["evaluate"]["mem_mb"],
        runtime=config["resources"]["evaluate"]["runtime"],
    params:
        options=eval_flags,
        # not used here: a change of the run's training options must rerun this evaluation too (and so
        # its training), also when its model.pt is a temp file Snakemake has already deleted
        training=train_flags,
    shell:
        "python -m neft evaluate --model {input.model} --out {output.result} --csv {output.rows} {params.options}"
        " > {log} 2>&1"
