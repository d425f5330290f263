"""Title and text extraction by format (citesearch.corpus.formats)."""

from __future__ import annotations

import gzip

import pytest
from conftest import SHARED, needs_shared

from citesearch.corpus import load_documents
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


@pytest.mark.parametrize(
    "heading, title",
    [
        ("The ``code`` title", "The code title"),
        ("Title *em*", "Title em"),
        ("Title **strong** and *em*", "Title strong and em"),
        ("The :func:`parse` function", "The parse function"),
        ("The :py:class:`~pkg.mod.Reader` class", "The Reader class"),
        ("See :ref:`the guide <guide-label>`", "See the guide"),
        ("The `interpreted` text", "The interpreted text"),
        ("The `parse`:func: suffix role", "The parse suffix role"),
        ("A `link <https://example.org>`_ here", "A link here"),
        ("An `anonymous link <https://example.org>`__", "An anonymous link"),
        ("A `ref`_ and a `<https://example.org>`_", "A ref and a https://example.org"),
        ("Literal ``*stars*`` and ``:role:`x```", "Literal *stars* and :role:`x`"),
        ("Escaped \\*stars\\*", "Escaped *stars*"),
        ("Math: 2 * 3 * 4 and snake_case_", "Math: 2 * 3 * 4 and snake_case_"),
    ],
)
def test_rst_title_has_no_inline_markup(heading, title):
    text = f"{heading}\n{'=' * (len(heading) + 4)}\n\nBody.\n"
    assert read_rst(text) == (title, text)


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


# --- titles of web pages saved as text --------------------------------------------------

IMMUNOTHERAPY = {
    "can-immunotherapy-cure-advanced-cancer.txt": "Can immunotherapy cure advanced cancer?",
    "can-immunotherapy-eventually-cure-all-major-types-of-cancer.txt": (
        "Can immunotherapy eventually cure all major types of cancer?"
    ),
    "how-does-immunotherapy-work-for-cancer.txt": "How does immunotherapy work for cancer",
    "immunotherapy-for-cancer-how-it-works-who-it-helps.txt": (
        "Immunotherapy for Cancer: How It Works, Who It Helps, and What to Expect"
    ),
    "what-is-immunotherapy-for-cancer-a-complete-guide.txt": "What Is Immunotherapy for Cancer? A Complete Guide",
}


@needs_shared
@pytest.mark.parametrize("name", sorted(IMMUNOTHERAPY))
def test_saved_web_page_gets_its_heading_not_the_site_menu(name):
    text = (SHARED / "corpus" / "immunotherapy" / name).read_text(encoding="utf-8")
    assert read_text(text, name) == (IMMUNOTHERAPY[name], text)


@needs_shared
def test_loading_passes_the_file_name_to_the_title_choice():
    docs = load_documents([SHARED / "corpus" / "immunotherapy"])
    assert {d.id: d.title for d in docs} == IMMUNOTHERAPY


MENU_PAGE = "WisPaper\nWisPaper\nSearch\nQA\nPricing\n\n{heading}\n\nThe answer, in a sentence or two of body text.\n"


def test_leading_menu_lines_are_skipped_for_the_heading():
    text = MENU_PAGE.format(heading="Do glaciers grow back in winter?")
    assert read_text(text) == ("Do glaciers grow back in winter?", text)


def test_menu_bars_and_a_category_label_are_skipped():
    text = "Home | Blog | About\nGeology\n\nWhy Iceland has so many volcanoes\n\nIt sits on a ridge, over a hot spot.\n"
    assert read_text(text, "notes.txt")[0] == "Why Iceland has so many volcanoes"


def test_the_line_matching_the_file_name_slug_wins():
    # Without the name, "Field notes" (the first line that is not menu-like) would be taken.
    text = "Menu\nField notes\nHow geysers erupt: pressure, heat and water\n\nWater deep underground boils.\n"
    assert read_text(text)[0] == "Field notes"
    assert read_text(text, "how-geysers-erupt.txt")[0] == "How geysers erupt: pressure, heat and water"
    assert read_text(text, "how-geysers-erupt.txt.gz")[0] == "How geysers erupt: pressure, heat and water"


def test_a_slug_matching_no_line_leaves_the_first_line_title():
    text = "Q3 planning\n\nMeeting notes for March: the attendees are listed below.\n"
    assert read_text(text, "meeting-notes-march.txt")[0] == "Q3 planning"


@pytest.mark.parametrize(
    "text, name",
    [
        ("Volcanoes of Iceland\n\nIceland sits on the Mid-Atlantic Ridge.\n", "alpha.txt"),
        ("Volcanoes of Iceland\nA subtitle line\nBody text of the document.\n", "volcanoes.txt"),
        ("Volcanoes of Iceland\n\nBody.\n", "volcanoes-of-iceland.txt"),
        ("Geysers\n\nA geyser erupts when underground water boils.\n", "doc.txt"),
        ("Notes\n\ntext", "NOTES.TXT"),
    ],
)
def test_a_first_line_title_is_kept(text, name):
    assert read_text(text, name) == (text.split("\n")[0], text)


@pytest.mark.parametrize("text", ["Hello world", "Hello", "  One line, with a full stop.  "])
def test_a_one_line_document_keeps_its_text_as_title(text):
    assert read_text(text, "note.txt") == (text.strip(), text)


def test_a_text_starting_with_body_keeps_its_first_line():
    text = "WisPaper\nThis page starts with its body text, which is not a heading.\nMore.\n"
    assert read_text(text, "page.txt")[0] == "WisPaper"


def test_markdown_heading_wins_over_menu_lines_and_slug_helps_without_heading():
    assert read_markdown("Home\nSearch\n\n# The title\n\nBody.\n", "other-words.md")[0] == "The title"
    text = "Home\nSearch\nRecent posts\nGlacier retreat in 2024\n\nGlaciers shrank again this year.\n"
    assert read_markdown(text, "glacier-retreat-in-2024.md")[0] == "Glacier retreat in 2024"


# --- YAML front matter ------------------------------------------------------------------


def _blanked(front: str) -> str:
    return "".join(c if c in "\r\n" else " " for c in front)


@pytest.mark.parametrize("reader, name", [(read_markdown, "post.md"), (read_text, "post.txt")])
def test_front_matter_title_wins_and_its_text_is_blanked_in_place(reader, name):
    front = "---\ntitle: Glaciers of the north\ndate: 2024-05-01\ntags:\n  - ice\n---\n"
    body = "# Another heading\n\nGlaciers retreat as the climate warms.\n"
    title, text = reader(front + body, name)
    assert title == "Glaciers of the north"
    # Offsets and line numbers stay those of the file; the metadata is in no passage.
    assert text == _blanked(front) + body
    assert len(text) == len(front + body) and text.count("\n") == (front + body).count("\n")
    assert text.index("Glaciers retreat") == (front + body).index("Glaciers retreat")


@pytest.mark.parametrize(
    "line, title",
    [
        ('title: "Quoted: with a colon"', "Quoted: with a colon"),
        ("title: 'It''s single-quoted'", "It's single-quoted"),
        ("title: Plain # and a comment", "Plain"),
        ("title: >\n  Folded over\n  two lines", "Folded over two lines"),
        ("Title: Capitalised key", "Capitalised key"),
    ],
)
def test_front_matter_title_forms(line, title):
    assert read_text(f"---\n{line}\nauthor: me\n---\nFirst line\n", "x.txt")[0] == title


def test_front_matter_without_title_is_blanked_and_the_title_chosen_as_usual():
    front = "---\nauthor: me\n---\n"
    assert read_markdown(front + "# Heading\n\nBody.\n") == ("Heading", _blanked(front) + "# Heading\n\nBody.\n")
    assert read_text(front + "Menu\nThe heading\n\nBody text here.\n")[0] == "The heading"


@pytest.mark.parametrize(
    "front",
    ["---\n---\n", "---\n\n---\n", "---\n# a comment\n  \n---\n", "---\r\n---\r\n", "---\n...\n"],
)
def test_front_matter_without_keys_is_blanked_and_is_not_the_title(front):
    # Jekyll's empty front matter: no "---" title, and no "---" in any passage.
    body = "# Getting Started\n\nInstall it.\n"
    assert read_markdown(front + body, "j.md") == ("Getting Started", _blanked(front) + body)
    assert read_text(front + "Getting Started\n\nInstall it.\n", "j.txt")[0] == "Getting Started"


def test_empty_front_matter_file_is_indexed_with_its_heading(tmp_path):
    (tmp_path / "j.md").write_text("---\n---\n# Getting Started\n\nInstall it.\n", encoding="utf-8")
    (doc,) = load_documents([tmp_path])
    assert doc.title == "Getting Started" and "---" not in doc.text


@pytest.mark.parametrize(
    "text, title",
    [
        ("The first words\n\n---\n---\n\nMore text.\n", "The first words"),
        ("***\n---\n\nFirst paragraph.\n", "First paragraph."),
        ("===\n===\n\nFirst paragraph.\n", "First paragraph."),
        ("# ---\n\nFirst paragraph.\n", "First paragraph."),
        ("- - -\n=====\n\nFirst paragraph.\n", "First paragraph."),
    ],
)
def test_a_rule_line_is_never_a_markdown_title(text, title):
    assert read_markdown(text)[0] == title


def test_a_text_of_only_rule_lines_has_an_empty_title():
    assert read_text("***\n\n* * *\n")[0] == ""


def test_front_matter_with_crlf_line_ends():
    text = "---\r\ntitle: CRLF title\r\n---\r\nBody\r\n"
    assert read_text(text) == ("CRLF title", _blanked("---\r\ntitle: CRLF title\r\n---\r\n") + "Body\r\n")


@pytest.mark.parametrize(
    "text",
    [
        "---\nChapter one\n---\n\nBody.\n",  # dashes around a line: not YAML
        "---\n\nA rule of dashes, then text.\n",  # never closed
        "Intro\n---\ntitle: not at the top\n---\n",  # not at the very top
        "---\nJust text\n\n---\n",  # no keys, and not only blank or comment lines
        "\n---\n---\nText.\n",  # key-less, not at the very top
    ],
)
def test_text_that_is_not_front_matter_is_kept(text):
    assert read_text(text)[1] == text
    assert read_markdown(text)[1] == text


def test_front_matter_is_read_from_files_and_gzipped_files(tmp_path):
    content = "---\ntitle: From the front matter\n---\nFirst line\n\nBody.\n"
    (tmp_path / "a.md").write_text(content, encoding="utf-8")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(content.encode()))
    docs = list(load_documents([tmp_path]))
    assert [(d.id, d.title) for d in docs] == [("a.md", "From the front matter"), ("b.txt.gz", "From the front matter")]
    assert all(d.text.endswith("First line\n\nBody.\n") and len(d.text) == len(content) for d in docs)


# --- Markdown inline markup in titles ---------------------------------------------------


@pytest.mark.parametrize(
    "heading, title",
    [
        ("# The **first** crack", "The first crack"),
        ("# The __first__ *crack* _here_", "The first crack here"),
        ("# See [the docs](https://example.org) and ![logo](logo.png)", "See the docs and logo"),
        ("# A [reference link][ref]", "A reference link"),
        ("# The `**kwargs` argument", "The **kwargs argument"),
        ("# Escaped \\*stars\\*", "Escaped *stars*"),
        ("# ~~Old~~ New <em>title</em>", "Old New title"),
        ("# snake_case_name and 2 * 3 * 4", "snake_case_name and 2 * 3 * 4"),
        ("Setext **bold**\n=====", "Setext bold"),
    ],
)
def test_markdown_title_has_no_inline_markup(heading, title):
    assert read_markdown(heading + "\n\nBody.\n")[0] == title
