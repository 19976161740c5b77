# The replication report: every regenerated number beside the paper's, a verdict per claim.


rule report:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
        figures=[f"figures/{NAME}/figure3.png", f"figures/{NAME}/figure4.png"],
        tables=[f"results/{NAME}/tables/{t}.md" for t in TABLES],
        benchmarks=benchmark_files(),
    output:
        report(f"results/{NAME}/report.md", caption="../report/report.rst", category="Report"),
    params:
        flags=report_flags(),
    log:
        f"results/{NAME}/logs/report.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft report --runs {input.runs} --out {output} --figures {input.figures} --tables {input.tables}"
        " --benchmarks {input.benchmarks} {params.flags} > {log} 2>&1"
