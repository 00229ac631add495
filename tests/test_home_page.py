"""The home page and the pages point only at what a browser user can open."""

from app_helpers import ROOT, page, texts


def test_no_page_points_a_browser_user_at_a_file_of_the_repository():
    at = page("app.py")
    assert not at.exception
    shown = " ".join(texts(at.caption) + texts(at.markdown))
    assert "sample_data/README" not in shown
    for path in (ROOT / "pages").glob("*.py"):
        assert "sample_data/README" not in path.read_text(encoding="utf-8"), path.name
