# The replication report: every regenerated number beside the paper's, a verdict per claim; as Markdown
# and as one self-contained HTML page (figures embedded) for a browser and the Snakemake report.


rule report:
    input:
        runs=f"results/{NAME}/aggregate/runs.csv",
        figures=[f"figures/{NAME}/figure3.png", f"figures/{NAME}/figure4.png"],
        tables=[f"results/{NAME}/tables/{t}.md" for t in TABLES],
        benchmarks=benchmark_files(),
    output:
        f"results/{NAME}/report.md",
    params:
        flags=report_flags(),
    log:
        f"results/{NAME}/logs/report.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft report --runs {input.runs} --out {output} --figures {input.figures} --tables {input.tables}"
        " --benchmarks {input.benchmarks} {params.flags} > {log} 2>&1"


rule report_html:
    input:
        md=f"results/{NAME}/report.md",
        figures=[f"figures/{NAME}/figure3.png", f"figures/{NAME}/figure4.png"],  # embedded in the page
    output:
        report(f"results/{NAME}/report.html", caption="../report/report.rst", category="Report",
               labels={"file": "replication report"}),
    log:
        f"results/{NAME}/logs/report_html.log",
    conda:
        "../envs/neft.yaml"
    shell:
        "python -m neft html {input.md} --out {output} > {log} 2>&1"
