from workbench.core.messages import content_text


def test_content_text_reads_strings_text_parts_and_nothing():
    assert content_text("hi") == "hi"
    assert content_text(None) == ""
    parts = [
        {"type": "text", "text": "a "},
        {"type": "image_url", "image_url": {"url": "data:..."}},
        {"type": "text", "text": "b"},
        "not a part",
    ]
    assert content_text(parts) == "a b"
    assert content_text(3) == "3"
