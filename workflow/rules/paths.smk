# Where the grid's files go: results/<name>/ and figures/<name>/, each run's files at its place in the run
# layout (neft/layout.py: RUN); and how the Snakemake report shows figures and tables.
RESULTS = f"results/{NAME}"
FIGURES_DIR = f"figures/{NAME}"


def at(pattern, runs):
    """A rule's file `pattern` (its run wildcards) for each run."""
    return [pattern.format(**run.wildcards()) for run in runs]


def model_file(path):
    """model.pt, deleted once evaluated when keep_models is false (its MC results stay valid)."""
    return path if config["keep_models"] else temp(path)


# Snakemake report labels; of two formats the report shows the first in sort order
FIGURE_FORMATS = {"png": "image (PNG)", "pdf": "vector (PDF)"}
TABLE_FORMATS = {"html": "HTML", "csv": "CSV", "tex": "LaTeX"}  # .md is for report.md


def figure_outputs(name, label):
    """A figure rule's outputs, shown in the Snakemake report, and the data it draws (CSV). `label`: a function of
    the wildcards."""
    shown = {
        ext: report(
            f"{FIGURES_DIR}/{name}.{ext}",
            caption="../report/figure.rst",
            category="Figures",
            labels=lambda w, fmt=fmt: {"figure": label(w), "format": fmt},
        )
        for ext, fmt in FIGURE_FORMATS.items()
    }
    return dict(**shown, data=f"{FIGURES_DIR}/{name}.csv")


def table_outputs(name, label):
    """A table rule's outputs: .md for report.md, the others also in the Snakemake report. `label` may be a
    function of the wildcards (a wildcard rule's tables)."""

    def labels(fmt):
        return (lambda w: {"table": label(w), "format": fmt}) if callable(label) else {"table": label, "format": fmt}

    shown = {
        ext: report(f"{RESULTS}/tables/{name}.{ext}", category="Tables", labels=labels(fmt))
        for ext, fmt in TABLE_FORMATS.items()
    }
    return dict(md=f"{RESULTS}/tables/{name}.md", **shown)
