# Data, once per dataset; training, one job per run (model x dataset x variant x sigma_d x seed); the
# beta search.


rule fetch:
    output:
        f"{RESULTS}/datasets/{{dataset}}.json",
    log:
        f"{RESULTS}/logs/fetch/{{dataset}}.log",
    conda:
        "../envs/neft.yaml"
    params:
        source=lambda w: flags(execution("data_dir", "download")),
    shell:
        "python -m neft fetch {wildcards.dataset} --out {output} {params.source} > {log} 2>&1"


rule train:
    input:
        unpack(train_inputs),
    output:
        model=model_file(f"{RESULTS}/runs/{RUN}/model.pt"),
        summary=f"{RESULTS}/runs/{RUN}/train.json",
    log:
        f"{RESULTS}/logs/train/{RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{RUN}.tsv"
    conda:
        "../envs/neft.yaml"
    threads: config["resources"]["train"]["threads"]
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=config["resources"]["train"]["mem_mb"],
        runtime=config["resources"]["train"]["runtime"],
    params:
        # the run folder also holds checkpoint.pt while training: a rerun resumes it (--resume)
        run_dir=lambda w, output: str(Path(output.summary).parent),
        options=train_flags,
    shell:
        "python -m neft train --out {params.run_dir} --resume {params.options} > {log} 2>&1"


rule beta_search:
    input:
        lambda w: at(rules.train.output.summary, beta_candidates(w.model, w.dataset, w.method)),
    output:
        beta=f"{RESULTS}/beta/{{model}}/{{dataset}}/{{method}}.yaml",
        table=f"{RESULTS}/beta/{{model}}/{{dataset}}/{{method}}.csv",
    log:
        f"{RESULTS}/logs/beta_search/{{model}}/{{dataset}}/{{method}}.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft beta-search {input} --out {output.beta} --csv {output.table} > {log} 2>&1"
