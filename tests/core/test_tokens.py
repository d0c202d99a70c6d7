"""Tokenizer: model -> encoding, exact counts with the cached BPE files, the labelled offline fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.core import tokens
from workbench.core.tokens import count_message_tokens, encoding_name_for_model, get_tokenizer


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1-mini-2025-04-14", "o200k_base"),
        ("gpt-5-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini-2025-04-16", "o200k_base"),
        # tiktoken 0.14 says cl100k_base for this one: it is wrong
        ("ft:gpt-4.1-mini-2025-04-14:acme::abc123", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:acme:support:xyz", "o200k_base"),
        ("ft:o4-mini-2025-04-16:acme::abc", "o200k_base"),
        ("gpt-4.1-2025-04-14.ft-0123456789abcdef0123456789abcdef", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("ft:gpt-3.5-turbo-0125:acme::abc", "cl100k_base"),
        ("some-future-model", "o200k_base"),
    ],
)
def test_encoding_for_model(model, encoding):
    assert encoding_name_for_model(model) == encoding


def test_base_model_of_fine_tuned_ids():
    assert tokens.base_model_of("ft:gpt-4o-mini-2024-07-18:org:sfx:id") == "gpt-4o-mini-2024-07-18"
    assert tokens.base_model_of("gpt-4.1-2025-04-14.ft-abc") == "gpt-4.1-2025-04-14"
    assert tokens.base_model_of("gpt-4.1") == "gpt-4.1"


@pytest.mark.requires_bpe
def test_exact_counts_with_the_cached_files():
    o200k = get_tokenizer("gpt-4o")
    cl100k = get_tokenizer("gpt-3.5-turbo")
    assert o200k.exact and cl100k.exact
    # known token ids, checked against tiktoken's own encodings
    assert o200k.encode("hello world") == [24912, 2375]
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k.count("tiktoken is great!") == 6
    assert cl100k.count("tiktoken is great!") == 6
    assert o200k.count("") == 0


def test_chat_formula_matches_the_cookbook():
    tok = get_tokenizer("gpt-4o-mini")
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello world", "name": "ann"},
        {"role": "assistant", "content": "hi", "weight": 1},
    ]
    expected = 3  # reply priming
    for m in messages:
        expected += 3
        expected += tok.count(m["role"]) + tok.count(m["content"])
        if "name" in m:
            expected += tok.count(m["name"]) + 1
    assert count_message_tokens(messages, tok) == expected
    assert count_message_tokens(messages, tok, reply_priming=False) == expected - 3


def test_numeric_weight_and_null_content_do_not_crash():
    tok = get_tokenizer("gpt-4o")
    messages = [{"role": "assistant", "content": None, "weight": 0, "tool_calls": [{"id": "c"}]}]
    assert count_message_tokens(messages, tok) > 6


FALLBACK_SCRIPT = """
import json, time
from workbench.core.tokens import get_tokenizer, count_message_tokens
start = time.monotonic()
tok = get_tokenizer("gpt-4o", timeout=20)
print(json.dumps({"exact": tok.exact, "label": tok.label, "note": tok.note,
                  "count": tok.count("a" * 40),
                  "chat": count_message_tokens([{"role": "user", "content": "hi"}], tok)}))
"""


def test_offline_without_cache_falls_back_to_a_labelled_estimate(tmp_path):
    """TIKTOKEN_CACHE_DIR points to an empty dir and the network is absent: an estimate, no crash."""
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(tmp_path),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    out = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["exact"] is False
    assert result["label"] == "≈ estimate (o200k_base unavailable)"
    assert "estimate" in result["note"] and "o200k_base" in result["note"]
    assert result["count"] == 10  # 40 characters at ~4 per token
    assert result["chat"] == 3 + 1 + 1 + 3


def test_a_hanging_download_is_bounded(monkeypatch, tmp_path):
    """If fetching the BPE file hangs, the caller gets the estimate after the timeout."""
    import threading

    import tiktoken

    release = threading.Event()

    def hang(name):
        release.wait(10)
        raise RuntimeError("never")

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tiktoken, "get_encoding", hang)
    tokens.reset_cache()
    try:
        tok = get_tokenizer("gpt-4o", timeout=0.2)
        assert not tok.exact
        assert "longer than" in tok.note
    finally:
        release.set()
        tokens.reset_cache()


def test_tool_calls_are_counted_as_compact_json():
    tok = get_tokenizer("gpt-4o")
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    with_calls = count_message_tokens(
        [{"role": "assistant", "content": None, "tool_calls": calls}], tok
    )
    without = count_message_tokens([{"role": "assistant", "content": None}], tok)
    assert with_calls - without == tok.count(json.dumps(calls, separators=(",", ":")))


def test_content_parts_count_their_text():
    tok = get_tokenizer("gpt-4o")
    parts = [
        {"type": "text", "text": "hello world"},
        {"type": "image_url", "image_url": {"url": "x"}},
    ]
    assert count_message_tokens([{"role": "user", "content": parts}], tok) == (
        count_message_tokens([{"role": "user", "content": "hello world"}], tok)
    )


def test_billing_base_model_strips_every_fine_tune_layer():
    from workbench.core.tokens import billing_base_model

    assert billing_base_model("gpt-4o-mini-2024-07-18") == "gpt-4o-mini-2024-07-18"
    assert billing_base_model("ft:gpt-4o-mini-2024-07-18:org:s:abc") == "gpt-4o-mini-2024-07-18"
    assert billing_base_model(" gpt-4.1-mini.ft-0123abcd-s ") == "gpt-4.1-mini"
    assert billing_base_model("ft:gpt-4.1-mini.ft-0123abcd:org::x") == "gpt-4.1-mini"
