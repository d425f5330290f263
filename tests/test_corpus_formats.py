"""Title and text extraction by format (citesearch.corpus.formats)."""

from __future__ import annotations

import pytest

from citesearch.corpus.formats import READERS, read_html, read_markdown, read_rst, read_text

# --- plain text -------------------------------------------------------------------------


def test_text_title_is_first_non_empty_line_and_text_is_kept_as_written():
    text = "\n   \n  Volcanoes of Iceland  \nIceland sits on a ridge.\n"
    assert read_text(text) == ("Volcanoes of Iceland", text)


def test_text_without_words_has_an_empty_title():
    assert read_text(" \n\t\n") == ("", " \n\t\n")


@pytest.mark.parametrize("ext", [".txt", ".text"])
def test_text_extensions_use_the_text_reader(ext):
    assert READERS[ext] is read_text


# --- Markdown ---------------------------------------------------------------------------


def test_markdown_atx_heading_is_the_title():
    text = "Some preamble\n\n# Glaciers and climate\n\nGlaciers retreat.\n"
    assert read_markdown(text) == ("Glaciers and climate", text)


@pytest.mark.parametrize(
    "line, title",
    [
        ("# Title", "Title"),
        ("## Second level", "Second level"),
        ("###### Six", "Six"),
        ("   # Indented three", "Indented three"),
        ("# Closed #", "Closed"),
        ("# Closed ###   ", "Closed"),
        ("#   Spaced out   ", "Spaced out"),
    ],
)
def test_markdown_atx_heading_forms(line, title):
    assert read_markdown(line + "\n\nbody")[0] == title


def test_markdown_hash_without_space_is_not_a_heading():
    assert read_markdown("#hashtag first\n\nbody")[0] == "#hashtag first"


def test_markdown_atx_heading_keeps_a_hash_that_is_part_of_the_last_word():
    # CommonMark: a closing sequence of #s must be preceded by a space; "C#" is a word.
    assert read_markdown("# Learn C#\n\nbody")[0] == "Learn C#"


@pytest.mark.parametrize("underline", ["=====", "-----", "===", "------------------"])
def test_markdown_setext_heading_is_the_title(underline):
    text = f"Hot springs\n{underline}\n\nA geyser erupts when water boils.\n"
    assert read_markdown(text) == ("Hot springs", text)


def test_markdown_first_heading_wins_when_setext_comes_before_atx():
    text = "Hot springs\n===========\n\nIntro.\n\n## Geysir\n\nMore.\n"
    assert read_markdown(text)[0] == "Hot springs"


def test_markdown_comment_in_fenced_code_is_not_a_heading():
    text = "Install notes\n\n```sh\n# install it first\npip install x\n```\n"
    assert read_markdown(text)[0] == "Install notes"


def test_markdown_without_heading_uses_first_line():
    text = "\n\nJust a paragraph of text.\nAnd another line.\n"
    assert read_markdown(text) == ("Just a paragraph of text.", text)


def test_markdown_horizontal_rule_after_blank_line_is_not_a_heading():
    text = "First paragraph.\n\n---\n\nSecond paragraph.\n"
    assert read_markdown(text)[0] == "First paragraph."


@pytest.mark.parametrize("ext", [".md", ".markdown"])
def test_markdown_extensions_use_the_markdown_reader(ext):
    assert READERS[ext] is read_markdown


# --- reStructuredText ------------------------------------------------------------------


@pytest.mark.parametrize("underline", ["=======", "-------", "~~~~~~~", "^^^^^^^", "*******", "#######"])
def test_rst_underlined_title(underline):
    text = f"Geysers\n{underline}\n\nA geyser erupts when water boils.\n"
    assert read_rst(text) == ("Geysers", text)


def test_rst_overline_and_underline_title():
    text = "=============\n  Geysers  \n=============\n\nSubtitle text.\n"
    assert read_rst(text) == ("Geysers", text)


def test_rst_heading_after_a_paragraph_is_still_the_title():
    text = ".. comment line\n\nSection\n-------\n\nBody.\n"
    assert read_rst(text)[0] == "Section"


def test_rst_without_title_uses_first_line():
    text = "\nNo heading here.\nSecond line.\n"
    assert read_rst(text) == ("No heading here.", text)


def test_rst_extension_uses_the_rst_reader():
    assert READERS[".rst"] is read_rst


# --- HTML ------------------------------------------------------------------------------


def test_html_title_element_is_the_title():
    title, _ = read_html("<html><head><title>Geysers</title></head><body><h1>Hot springs</h1><p>x</p></body></html>")
    assert title == "Geysers"


def test_html_title_whitespace_is_collapsed():
    title, _ = read_html("<html><head><title>\n  Geysers\n   of   Iceland </title></head><body><p>x</p></body></html>")
    assert title == "Geysers of Iceland"


@pytest.mark.parametrize("head", ["", "<head></head>", "<head><title>   </title></head>"])
def test_html_falls_back_to_first_h1(head):
    html = f"<html>{head}<body><p>Intro</p><h1>Hot <em>springs</em></h1><h1>Second</h1><p>x</p></body></html>"
    assert read_html(html)[0] == "Hot springs"


def test_html_h1_inside_navigation_is_not_the_title():
    html = "<body><nav><h1>Site name</h1></nav><h1>Real heading</h1><p>x</p></body>"
    assert read_html(html)[0] == "Real heading"


def test_html_without_title_or_h1_uses_first_line_of_body():
    assert read_html("<body><p>First para.</p><p>Second.</p></body>") == ("First para.", "First para.\n\nSecond.")


def test_html_scripts_styles_and_navigation_are_dropped():
    html = (
        "<html><head><title>T</title><style>p {color: red}</style><script>var a = 1;</script></head>"
        "<body><nav>Home | About</nav><div role=\"navigation\">Menu links</div>"
        "<p>Kept text.</p><script>var tracking = 1;</script><noscript>Enable JS</noscript>"
        "<template><p>Hidden template</p></template><p>More kept.</p></body></html>"
    )
    assert read_html(html) == ("T", "Kept text.\n\nMore kept.")


def test_html_paragraph_boundaries_are_blank_lines_and_inline_tags_are_not():
    html = (
        "<body><h1>Heading</h1><p>One <b>bold</b> and\n   <a href='#'>linked</a>\n words.</p>"
        "<ul><li>first</li><li>second</li></ul><div>line<br>break</div></body>"
    )
    _, body = read_html(html)
    assert body == "Heading\n\nOne bold and linked words.\n\nfirst\n\nsecond\n\nline\n\nbreak"


def test_html_entities_are_decoded():
    _, body = read_html("<p>caf&eacute; &amp; cr&egrave;me &lt;b&gt; &#8212; &#x41;&nbsp;&nbsp;B</p>")
    assert body == "café & crème <b> — A B"


def test_html_title_is_not_body_text_even_without_a_head_element():
    # Browsers put a bare <title> in the head; it is the title, not page content.
    assert read_html("<title>Geysers</title><p>Body text.</p>") == ("Geysers", "Body text.")


def test_html_comments_and_doctype_are_not_text():
    _, body = read_html("<!DOCTYPE html><html><body><!-- hidden comment --><p>Visible.</p></body></html>")
    assert body == "Visible."


def test_html_with_only_dropped_content_has_empty_body():
    assert read_html("<html><head><title>T</title></head><body><script>x()</script></body></html>") == ("T", "")


@pytest.mark.parametrize("ext", [".html", ".htm"])
def test_html_extensions_use_the_html_reader(ext):
    assert READERS[ext] is read_html
