"""What a reader sees (render.py, layouts.py, html.py, names.py): cells, the table files as CSV, Markdown,
HTML and LaTeX, and the HTML page of a Markdown file."""

import pandas as pd
import pytest
from made_runs import runs_of

from neft.analysis.grid import Setting
from neft.analysis.render import write
from neft.analysis.tables import TABLES, convergence, table1
from neft.errors import NeftError


def test_tables_are_written_as_csv_markdown_html_latex(tmp_path):
    runs = runs_of(
        tmp_path,
        [("ovf", 0.3, s, {0.3: [60.0 + s, 60.0 + s]}, dict(n_feedback=3)) for s in (0, 1)]
        + [("ovf-n1", 0.3, 0, {0.3: [50.0, 50.0]}, dict(n_feedback=1))],
    ).assign(dataset="fashion_mnist")
    setting = Setting("vgg8", "fashion_mnist", 0.3, (0, 1))
    outs = [tmp_path / "t.csv", tmp_path / "t.md", tmp_path / "t.html", tmp_path / "t.tex"]
    title = f"Table 1. Accuracy (%) — {setting.describe(runs, {'mnist': 'fashion_mnist'})}"
    write(TABLES["table1"], table1(runs, setting), outs, title)
    csv, md, html, tex = (out.read_text() for out in outs)
    assert pd.read_csv(outs[0])["mean"].tolist() == [50.0, 60.5]
    assert title.endswith("VGG-8, Fashion-MNIST (for MNIST), σ_d = 0.3, seeds 0 1 (n = 2), 3 epochs, R = 2")
    assert f"**{title}**" in md and "| OVF      | 50.00 (n = 1) | 60.50 ± 6.35 * |" in md
    assert "|:---------|--------------:|---------------:|" in md  # numbers right-aligned
    assert "mean ± CI95 over seeds" in md and "n = 1: the mean alone, no CI95" in md
    assert '<td style="text-align: right;">60.50 ± 6.35 *</td>' in html and "<title>Table 1. Accuracy" in html
    assert "% needs \\usepackage{booktabs}" in tex and "\\begin{table}[htbp]" in tex and "\\label{tab:table1}" in tex
    assert "\\caption{Accuracy (\\%) --- VGG-8, Fashion-MNIST (for MNIST), $\\sigma_d$ = 0.3" in tex
    assert "method & 1 & $1{\\sim}3$ \\\\" in tex and "OVF & 50.00 (n = 1) & 60.50 $\\pm$ 6.35 * \\\\" in tex
    assert "\\begin{tabular}{lrr}" in tex and "\\toprule" in tex and "\\end{table}" in tex
    assert not any("nan" in text for text in (md, html, tex))
    write(TABLES["table1"], table1(runs.iloc[:0], setting), outs, "Table 1")
    assert "not run" in outs[1].read_text() and "Not run." in outs[3].read_text()


def test_latex_escapes_what_latex_would_misread():
    from neft.analysis.render import latex

    assert latex("1~3") == "$1{\\sim}3$" and latex("a ~ b") == "a \\textasciitilde{} b"
    assert latex("σ_d = 0.3, β ± 1.2, -3.50, pre-trained") == (
        "$\\sigma_d$ = 0.3, $\\beta$ $\\pm$ 1.2, $-$3.50, pre-trained"
    )
    assert latex("50% & #1_{x}^\\<") == "50\\% \\& \\#1\\_\\{x\\}\\^{}\\textbackslash{}$<$"
    assert latex("NFT − ablated — W/O") == "NFT $-$ ablated --- W/O"


def test_convergence_table_says_not_run_not_nan(tmp_path):
    runs = runs_of(tmp_path, [("noise", 0.35, s, {0.35: [a, a]}, {}) for s, a in [(0, 90.0), (1, 80.0)]])
    table = convergence(runs, Setting("vgg8", "mnist", 0.35, (0, 1)), ["noise", "ovf"], 5.0)
    write(TABLES["convergence"], table, [tmp_path / "c.md", tmp_path / "c.tex"], "Convergence")
    md = " ".join((tmp_path / "c.md").read_text().split())
    assert "| W/ Noise | 2 | 0 | 0 | 0 | 85.00 [21.47, 100.00] |" in md  # 85.00 ± 63.53, clipped at 100
    assert "| OVF | not run | not run | not run | not run | not run |" in md
    assert "nan" not in md + (tmp_path / "c.tex").read_text()


def test_every_registered_name_has_a_display_name():
    from neft.analysis.names import DATASET_NAMES, METHOD_NAMES, MODEL_NAMES, dataset_name
    from neft.datasets import DATASETS
    from neft.methods import METHODS
    from neft.models import MODELS

    assert set(DATASETS.names()) <= set(DATASET_NAMES) and set(MODELS.names()) <= set(MODEL_NAMES)
    assert set(METHODS.names()) <= set(METHOD_NAMES)
    assert dataset_name("fashion_mnist", {"mnist": "fashion_mnist"}) == "Fashion-MNIST (for MNIST)"
    assert dataset_name("cifar10", {"mnist": "fashion_mnist"}) == "CIFAR-10"


def test_html_page_embeds_the_images_it_shows(tmp_path):
    """The Snakemake report shows a page in a frame of its own: an image must travel inside it."""
    import base64

    from neft.analysis.html import render

    (tmp_path / "figures").mkdir()
    image = tmp_path / "figures" / "f.png"
    image.write_bytes(b"\x89PNG not really")
    source = tmp_path / "report.md"
    source.write_text(
        "# Report: unit\n\n| claim | ours |\n|:--|--:|\n| x | +1.00 ± 0.50 |\n\n"
        "In words:\n- one\n- two\n\n![f](figures/f.png)\n"
    )
    render(source, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "<p>In words:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in page  # a list right below text, as on GitHub
    assert "<title>Report: unit</title>" in page and '<td style="text-align: right;">+1.00 ± 0.50</td>' in page
    assert f'src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}"' in page
    source.write_text("![f](figures/missing.png)\n")
    with pytest.raises(NeftError, match="missing.png"):
        render(source, tmp_path / "broken.html")
    assert not (tmp_path / "broken.html").exists()
