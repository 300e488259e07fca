"""Hypothesis strategies for conversations that stress chat templates where near-misses differ."""

from __future__ import annotations

from hypothesis import strategies as st

# Every plane, including astral emoji, combining marks, NUL and lone surrogates (category Cs).
any_char = st.characters(codec=None, categories=None)
awkward_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\n",
            "  padded  ",
            "\t\n x \n",
            "é",
            "e\u0301",
            "👩‍💻",
            "\x00",
            "\ud800",
            "{{ x }}",
            "{% if %}",
            "[INST]",
            "<|im_end|>",
            "'quoted' \"double\"",
            "\\",
            "CONTINUE_FINAL_MESSAGE_TAG",
        ]
    ),
    st.text(any_char, max_size=40),
    st.text(st.sampled_from("ab \n\t"), max_size=12),
)
roles = st.one_of(
    st.sampled_from(["system", "user", "assistant", "tool", "user", "assistant", "developer", "ipython"]),
    st.sampled_from(["", "User", "bot", "function"]),
)

tool_call = st.fixed_dictionaries(
    {
        "type": st.just("function"),
        "function": st.fixed_dictionaries(
            {
                "name": st.sampled_from(["get_weather", "search"]),
                "arguments": st.one_of(
                    st.dictionaries(st.sampled_from(["q", "city"]), awkward_text, max_size=2), st.just('{"q": "x"}')
                ),
            }
        ),
    },
    optional={"id": st.sampled_from(["call_1", "abcdefghi"])},
)
content = st.one_of(
    awkward_text,
    awkward_text,
    st.none(),
    st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": awkward_text}), max_size=2),
)
message = st.fixed_dictionaries(
    {"role": roles},
    optional={
        "content": content,
        "tool_calls": st.lists(tool_call, min_size=1, max_size=2),
        "name": st.sampled_from(["get_weather", "alice"]),
        "reasoning_content": awkward_text,
        "thinking": st.none(),
        "extra": st.integers(),
    },
)
# Mostly well-formed alternating chats, sometimes anything.
plain_message = st.builds(lambda role, text: {"role": role, "content": text}, roles, awkward_text)
conversation = st.one_of(st.lists(message, max_size=6), st.lists(plain_message, min_size=1, max_size=8))
tools = st.one_of(
    st.none(),
    st.just([]),
    st.just(
        [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather <now> & 'then'",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                },
            }
        ]
    ),
)
