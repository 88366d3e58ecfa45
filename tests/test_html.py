"""The HTML report: one self-contained file that a real browser (headless Debian
chromium) loads, with every id and every image rendered."""

import re

import pytest

from grader.grading.grader import grade
from grader.reporting import reports
from grader.reporting.rows import rows
from tests.conftest import FULL_MARKS


@pytest.fixture(scope="module")
def page(mixed_report, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(reports.FORMATS["html"](mixed_report))
    return path


def test_the_page_needs_nothing_from_the_network(page):
    text = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<link" not in text and "<script" not in text


def test_every_wrong_gradient_of_the_right_shape_has_a_picture(mixed_report, page):
    text = page.read_text()
    drawn = [g for i in mixed_report.items for g in i.gradients if g.example is not None]
    assert drawn and text.count('src="data:image/png;base64,') == len(drawn)


def test_a_headless_browser_shows_every_id_and_renders_every_image(browser, page, mixed_report):
    browser.get(page.as_uri())
    labels = [cell.text for cell in browser.find_elements("css selector", "tbody tr td:first-child")]
    assert labels == [row.label for row in rows(mixed_report.items)]
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert images and all(complete and width > 100 and height > 50 for complete, width, height in images)
    waiting = ("passed", "not_implemented", "missing")
    sections = [s.text.split()[0] for s in browser.find_elements("css selector", "section h2")]
    wrong = [r for r in rows(mixed_report.items) if r.first.status not in waiting]
    pictured = {r.label for r in wrong if any(g.example is not None for i in r.items for g in i.gradients)}
    traced = {r.label for r in wrong if r.first.detail}
    assert set(sections) == pictured | traced  # what is not there yet has its row, and no section
    assert set(sections[: len(pictured)]) == pictured  # wrong gradients first


def test_the_html_of_the_solutions_has_no_sections_and_full_marks(solutions_report):
    text = reports.FORMATS["html"](solutions_report)
    assert "<section" not in text and f"<b>{FULL_MARKS:g}/{FULL_MARKS:g}</b>" in text


def test_yours_and_autograds_panels_share_a_colour_scale_the_difference_has_its_own_and_the_caption_wraps():
    import torch

    from grader.grading.diagnosis import Diagnosis
    from grader.reporting import pictures

    yours, autograd = torch.full((8, 5), 3.0), torch.randn(8, 5) * 1e-3
    why = Diagnosis(
        "unknown", "dlogits is wrong in no pattern the grader knows " * 5, "compare your formula, term by term"
    )
    fig = pictures.figure([("dlogits", yours, autograd, "n=8 V=5", why)])
    images = [image for ax in fig.axes for image in ax.get_images()]
    assert len(images) == 3 and len(fig.axes) == 6  # three panels, three colour bars
    assert images[0].get_clim() == images[1].get_clim() == (-3.0, 3.0)  # a scaled answer looks scaled
    assert images[2].get_clim()[1] == pytest.approx(float((yours - autograd).abs().max()), rel=1e-6)
    caption = fig.subfigs[0]._supxlabel.get_text()
    assert "is wrong in no pattern" in caption and caption.count("\n") >= 2 and "  " not in caption


def test_check_plot_writes_a_png_of_the_wrong_gradients(make_submission, tmp_path, capsys):
    from grader.frontends.cli import main

    code = "def bnvar_backward(dbnvar, bndiff2):\n    return dbnvar.expand_as(bndiff2) / bndiff2.shape[0]\n"
    folder = make_submission(append={"ex1_atomic": code})
    out = tmp_path / "plot.png"
    assert main(["check", "ex1.bnvar_backward", "--submission", str(folder), "--plot", str(out)]) == 1
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    assert Image.open(out).size[0] > 800
    assert "wrote the picture" in capsys.readouterr().out
    assert grade(folder, ids=["ex1.bnvar_backward"]).items[0].diagnosis.code == "scaled"


# nbconvert's lab template carries JupyterLab's own stylesheet (what a check's output meets
# in JupyterLab, which right-aligns and centres tables and wraps <pre>); classic, the
# older notebook's.
@pytest.mark.parametrize("template", ["lab", "classic"])
def test_a_checks_output_in_a_notebook_keeps_reasons_left_and_each_cmp_line_whole_in_monospace(
    template, browser, mixed_report, tmp_path
):
    import nbformat
    from nbconvert import HTMLExporter

    output = reports.STYLE + reports.html_body(mixed_report, lines=True)
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": output, "text/plain": "check"})]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    page = tmp_path / f"{template}.html"
    page.write_text(HTMLExporter(template_name=template).from_notebook_node(notebook)[0])
    browser.set_window_size(800, 1000)  # narrower than a cmp line
    browser.get(page.as_uri())
    aligned = browser.execute_script(
        "return Array.from(document.querySelectorAll('.bpn td:not(.points), .bpn th'))"
        ".map(cell => getComputedStyle(cell).textAlign)"
    )
    assert aligned and set(aligned) <= {"left", "start"}
    table_left = browser.execute_script(
        "const t = document.querySelector('.bpn table'); return t.getBoundingClientRect().left"
        " - t.parentElement.getBoundingClientRect().left"
    )
    assert table_left < 5  # not centred
    lines, height, one, narrow, wide = browser.execute_script(
        """const pre = document.querySelector('.bpn pre.cmp');
        const one = pre.cloneNode(false); one.textContent = 'x'; pre.after(one);
        const probe = text => { const s = document.createElement('span'); s.textContent = text;
            pre.appendChild(s); const w = s.getBoundingClientRect().width; s.remove(); return w; };
        return [pre.textContent.split('\\n').length, pre.clientHeight, one.clientHeight,
                probe('iiiiiiiiii'), probe('MMMMMMMMMM')];"""
    )
    assert lines > 5 and height <= lines * one + one / 2, (lines, height, one)  # no line wraps
    assert narrow == pytest.approx(wide, rel=0.01)  # a monospace font
