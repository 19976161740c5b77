"""Markdown (report.md, the tables) -> one self-contained HTML page. The Snakemake report shows each
result in a frame of its own, from which no relative link resolves: the images are embedded."""

import base64
import html
import re
from pathlib import Path

from ..errors import NeftError
from ..io import save_text

STYLE = """body { font-family: system-ui, sans-serif; max-width: 75rem; margin: 1.5rem auto; padding: 0 1rem;
       line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.55rem; }
th { background: #f2f2f2; }
tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; }
code { background: #f2f2f2; padding: 0 0.2rem; }"""
IMAGE = re.compile(r'<img ([^>]*?)src="([^"]+)"')
# GitHub (CommonMark) lets a list start right below a line of text; Python-Markdown needs a blank line
LIST_BELOW_TEXT = re.compile(r"^(?![-*] |\d+\. |\s)(.+)\n(?=[-*] |\d+\. )", re.M)
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def page(text: str, title: str, base: Path | None = None) -> str:
    """An HTML page of Markdown `text`; images at paths relative to `base` are embedded as data URIs."""
    import markdown

    body = markdown.markdown(LIST_BELOW_TEXT.sub(r"\1\n\n", text), extensions=["tables"])
    if base is not None:
        body = IMAGE.sub(lambda m: embedded(m, Path(base)), body)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def embedded(match: re.Match, base: Path) -> str:
    source = html.unescape(match[2])
    if re.match(r"^[a-z]+:", source):  # data:, https: ...
        return match[0]
    path = base / source
    if path.suffix.lower() not in MIME or not path.is_file():
        raise NeftError(f"{path}: an image the page shows is missing or not an image; make it first")
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img {match[1]}src="data:{MIME[path.suffix.lower()]};base64,{data}"'


def render(source: Path, out: Path) -> None:
    """A Markdown file -> its HTML page, titled by its first line."""
    try:
        text = Path(source).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise NeftError(f"{source}: unreadable Markdown ({e})") from None
    title = text.strip().splitlines()[0].strip("#* ") if text.strip() else Path(source).stem
    save_text(Path(out), page(text, title, Path(source).parent))
