"""A page's extracted lines reflowed into paragraphs (indexer.reflow), for the document page."""

from __future__ import annotations

import pytest

from indexer.reflow import paragraphs, reflow


def test_lines_of_a_paragraph_are_joined_and_paragraphs_kept():
    text = ("The EU and China agreed in 2006 to exchange experience on regional policy and\n"
            "to cooperate on the development of their regions in the years to come, with seminars.\n"
            "It was signed in Brussels.\n"
            "A new paragraph follows here.")
    assert paragraphs(text) == [
        "The EU and China agreed in 2006 to exchange experience on regional policy and to cooperate on the "
        "development of their regions in the years to come, with seminars. It was signed in Brussels.",
        "A new paragraph follows here."]


def test_hyphenation_at_line_ends_is_joined_and_real_hyphens_are_kept():
    text = ("This line is long enough to be a full line of the page, and it ends with a develop-\n"
            "ment of the regions; the line after it is long enough as well to count as full, EU-\n"
            "China.")
    assert reflow(text) == ("This line is long enough to be a full line of the page, and it ends with a "
                            "development of the regions; the line after it is long enough as well to count "
                            "as full, EU-China.")


def test_single_words_on_their_own_lines_are_joined():
    assert reflow("Regional policy covers\nthe\nwhole\nterritory of the Union.") == (
        "Regional policy covers the whole territory of the Union.")


def test_headings_blank_lines_and_list_items_stay_apart():
    text = ("Introduction\nThe report has two parts and a long first line that fills the page width.\n\n"
            "Findings:\n1. The first finding is here.\n2. The second one.\n• A bullet")
    assert paragraphs(text) == ["Introduction",
                                "The report has two parts and a long first line that fills the page width.",
                                "Findings:", "1. The first finding is here.", "2. The second one.", "• A bullet"]


def test_chinese_lines_are_joined_without_spaces_and_headings_kept():
    text = "区域政策是欧盟和中国合作的重要领域，双方在过去十年中开展了\n大量交流与合作。\n第二章\n双方同意继续合作，并在城镇化方面交流\n经验。"
    assert paragraphs(text) == ["区域政策是欧盟和中国合作的重要领域，双方在过去十年中开展了大量交流与合作。", "第二章",
                                "双方同意继续合作，并在城镇化方面交流经验。"]


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_empty_text_has_no_paragraphs(text):
    assert paragraphs(text) == [] and reflow(text) == ""


def test_only_line_breaks_change():
    text = "One short line.\nAnother line with words, and\nthe end.\n\n第一段。\n第二段"
    assert reflow(text).replace("\n\n", " ").split() == text.split()
