import json

import pandas as pd
import pytest

from framing.errors import FramingError
from framing.extract import ExtractionError, extract, find_sources
from framing.segment import segment

MB = 1_000_000


def test_passages_point_back_into_the_source():
    text = "1. Introduction\n\nThe board has agreed a plan.  Every ward must comply\nby April.\n\n\nNurses began a huddle of their own on nights, and three other wards copied it."
    passages = segment(text, max_words=40, min_words=4)
    assert [p.text for p in passages] == [
        "1. Introduction The board has agreed a plan. Every ward must comply by April.",
        "Nurses began a huddle of their own on nights, and three other wards copied it.",
    ]
    for p in passages:
        assert " ".join(text[p.start : p.end].split()) == p.text


def test_long_paragraphs_are_cut_at_sentences_within_the_limit():
    sentences = [f"Sentence {i} says something about the ward and the plan." for i in range(40)]
    text = " ".join(sentences)
    passages = segment(text, max_words=50, min_words=5)
    assert all(len(p.text.split()) <= 50 for p in passages)
    assert all(p.text.endswith(".") for p in passages)
    assert " ".join(p.text for p in passages) == text


def test_one_giant_sentence_is_cut_on_words():
    text = " ".join(["word"] * 1000)
    passages = segment(text, max_words=100)
    assert [len(p.text.split()) for p in passages] == [100] * 10


def test_pages_follow_offsets():
    text = "Page one paragraph with enough words to stand alone here.\n\nPage two paragraph with enough words to stand alone too."
    second = text.index("Page two")
    passages = segment(text, min_words=3, page_starts=[0, second])
    assert [p.page for p in passages] == [1, 2]


def test_empty_text_has_no_passages():
    assert segment("   \n\n  ") == []


def _sources(path, **kw):
    return list(find_sources([str(path)], **kw))


def test_plain_markdown_and_html(tmp_path):
    (tmp_path / "a.txt").write_text("First paragraph.\n\nSecond paragraph.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title\n\nBody text here.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><style>p{}</style><script>var x=1;</script></head><body><nav>Home | About</nav>"
        "<h1>Plan</h1><p>The board <b>will</b> decide.</p><p>Staff act.</p><footer>Contact us</footer></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "skip.png").write_bytes(b"\x89PNG")
    sources = _sources(tmp_path)
    assert [s.doc_id for s in sources] == ["a.txt", "b.md", "c.html"]
    html = extract(sources[2], max_bytes=MB).text
    assert "The board will decide." in html
    assert "Staff act." in html
    assert "var x" not in html and "Home" not in html and "Contact" not in html


def test_docx_paragraphs_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("The executive will roll out the plan.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Target"
    table.rows[0].cells[1].text = "95%"
    document.add_paragraph("Wards report monthly.")
    document.save(str(tmp_path / "d.docx"))
    text = extract(_sources(tmp_path / "d.docx")[0], max_bytes=MB).text
    assert text.split("\n\n") == [
        "The executive will roll out the plan.",
        "Target | 95%",
        "Wards report monthly.",
    ]


def _pdf(path, pages, password=None):
    from fpdf import FPDF

    pdf = FPDF()
    for body in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 8, body)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.output(str(path))
    return path


def test_pdf_text_and_page_numbers(tmp_path):
    path = _pdf(
        tmp_path / "p.pdf",
        ["The board will set targets for every ward.", "Nurses organised their own rota change."],
    )
    doc = extract(_sources(path)[0], max_bytes=MB)
    assert len(doc.page_starts) == 2
    passages = segment(doc.text, min_words=3, page_starts=doc.page_starts)
    assert [(p.page, p.text) for p in passages] == [
        (1, "The board will set targets for every ward."),
        (2, "Nurses organised their own rota change."),
    ]


def test_running_headers_and_footers_are_dropped():
    from framing.extract import _drop_running_lines

    bodies = [
        "The board will set targets for every ward.\n\nCompliance is reported monthly.",
        "Nurses on ward 4 started their own huddle.\n\nOther wards copied it.",
        "The trust funds the time; staff choose the projects.",
        "Minutes of the last meeting were approved.",
    ]
    pages = [
        f"Riverside NHS Trust - Board paper\n{body}\nPage {n} of 4"
        if n % 2
        else f"Board paper - Riverside NHS Trust\n{body}\npage {n} of 4 "
        for n, body in enumerate(bodies, start=1)
    ]
    kept = _drop_running_lines(pages)
    assert kept[0] == bodies[0] and kept[1] == bodies[1]  # paragraph breaks survive
    assert not any("Riverside" in page or "Page" in page for page in kept)
    # a line that recurs only in the body, not at a page edge, stays
    middle = [f"Top {n}\nHeader\nline\nWe listen to staff.\nmore\ntext\nhere" for n in range(5)]
    assert all("We listen to staff." in page for page in _drop_running_lines(middle))
    # two pages are too few to tell a running line from a repeated one
    assert _drop_running_lines(pages[:2]) == pages[:2]


def test_real_published_pdfs(shared_dir):
    for name, pages in (("manifesto-2017-a.pdf", 44), ("manifesto-2017-b.pdf", 10)):
        doc = extract(_sources(shared_dir / "eval" / "real-pdfs" / name)[0], max_bytes=50 * MB)
        assert len(doc.page_starts) == pages
        passages = segment(doc.text, page_starts=doc.page_starts)
        assert len(passages) > pages
        assert {p.page for p in passages} <= set(range(1, pages + 1))
        assert max(p.page for p in passages) >= pages - 1
        assert "ﬁ" not in doc.text  # ligatures are expanded
        # running headers and footers are gone (a printer's line on all 44 pages of one,
        # the party's name and slogan atop 7 of the 10 pages of the other)
        assert "Forest Stewardship" not in doc.text
        assert "Putting North of England People First" not in doc.text
        assert all(len(p.text.split()) <= 180 for p in passages)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"   \n\n ", "no text found"),
        ("binary.txt", b"\x00\x01\x02abc", "binary file"),
        ("corrupt.pdf", b"%PDF-1.4 not really", "corrupt or unreadable PDF"),
        ("corrupt.docx", b"PK\x03\x04 not a zip", "corrupt or unreadable DOCX"),
    ],
)
def test_bad_files_raise_one_line(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=problem) as info:
        extract(_sources(path)[0], max_bytes=MB)
    assert "\n" not in str(info.value)


def test_encrypted_pdf_and_size_limit(tmp_path):
    path = _pdf(tmp_path / "locked.pdf", ["Secret board paper."], password="pw")
    with pytest.raises(ExtractionError, match="encrypted PDF"):
        extract(_sources(path)[0], max_bytes=MB)
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000)
    with pytest.raises(ExtractionError, match="file too large"):
        extract(_sources(big)[0], max_bytes=MB)


def test_non_utf8_text_is_read_with_a_warning(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(
        "Les infirmières ont changé la rota elles-mêmes, sans attendre la direction.".encode(
            "cp1252"
        )
    )
    doc = extract(_sources(path)[0], max_bytes=MB)
    assert doc.warning and doc.warning.startswith("not UTF-8")
    assert "rota" in doc.text


def test_table_rows_stream_as_documents(tmp_path):
    rows = [
        {"post_id": "x1", "body": "We did it ourselves."},
        {"post_id": "x2", "body": ""},
        {"post_id": "", "body": "Board says so."},
    ]
    for suffix in ("csv", "jsonl", "parquet", "tsv"):
        path = tmp_path / f"posts.{suffix}"
        frame = pd.DataFrame(rows)
        if suffix == "csv":
            frame.to_csv(path, index=False)
        elif suffix == "tsv":
            frame.to_csv(path, index=False, sep="\t")
        elif suffix == "jsonl":
            path.write_text("\n".join(json.dumps(r) for r in rows))
        else:
            frame.to_parquet(path)
        sources = _sources(path, text_column="body", id_column="post_id")
        assert [s.doc_id for s in sources] == [f"{path}#x1", f"{path}#x2", f"{path}#row3"]
        assert sources[1].problem == "row 2: empty text"
        assert sources[0].text == "We did it ourselves."
    missing = _sources(tmp_path / "posts.csv", text_column="nope")
    assert "no column 'nope'" in (missing[0].problem or "")


def test_missing_inputs_are_user_errors(tmp_path):
    with pytest.raises(FramingError, match="no such file or folder"):
        _sources(tmp_path / "absent")
    with pytest.raises(FramingError, match="no files match"):
        list(find_sources([str(tmp_path / "*.pdf")]))


def test_glob_and_duplicate_ids(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    sources = list(find_sources([str(tmp_path / "*.txt"), str(tmp_path / "a.txt")]))
    assert [s.doc_id for s in sources] == [str(tmp_path / "a.txt"), f"{tmp_path / 'a.txt'}~2"]
