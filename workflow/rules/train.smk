# Data, once per dataset; training, one job per run (model x dataset x variant x sigma_d x seed); the
# beta search.


rule fetch:
    output:
        "results/{name}/datasets/{dataset}.json",
    params:
        source=lambda w: flags(execution("data_dir", "download")),
    log:
        "results/{name}/logs/fetch/{dataset}.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft fetch {wildcards.dataset} --out {output} {params.source} > {log} 2>&1"


rule train:
    input:
        unpack(train_inputs),
    output:
        model=model_file("results/{name}/runs/{model}/{dataset}/{variant}/sd{sigma_d}/seed{seed}/model.pt"),
        summary="results/{name}/runs/{model}/{dataset}/{variant}/sd{sigma_d}/seed{seed}/train.json",
    params:
        # the run folder also holds checkpoint.pt while training: a rerun resumes it (--resume)
        run_dir=lambda w, output: str(Path(output.summary).parent),
        options=train_flags,
    log:
        "results/{name}/logs/train/{model}/{dataset}/{variant}/sd{sigma_d}/seed{seed}.log",
    benchmark:
        "results/{name}/benchmarks/train/{model}/{dataset}/{variant}/sd{sigma_d}/seed{seed}.tsv"
    threads: config["resources"]["train"]["threads"]
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=config["resources"]["train"]["mem_mb"],
        runtime=config["resources"]["train"]["runtime"],
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft train --out {params.run_dir} --resume {params.options} > {log} 2>&1"


rule beta_search:
    input:
        lambda w: [f"results/{w.name}/runs/{r}/train.json" for r in beta_candidates(w.model, w.dataset, w.method)],
    output:
        beta="results/{name}/beta/{model}/{dataset}/{method}.yaml",
        table="results/{name}/beta/{model}/{dataset}/{method}.csv",
    log:
        "results/{name}/logs/beta_search/{model}/{dataset}/{method}.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft beta-search {input} --out {output.beta} --csv {output.table} > {log} 2>&1"
