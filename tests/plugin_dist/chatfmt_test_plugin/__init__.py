"""Templates declared as `chatfmt.templates` entry points by the test plugin distribution."""

from importlib import resources

from chatfmt import Template
from chatfmt.formats import format_from_patterns

# How many times `chatfmt_test_plugin.broken` has been imported (it bumps this, then raises), so tests
# can tell whether the registry touched it.
BROKEN_IMPORTS = 0

SOURCE = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"

TOKENS_TEMPLATE = Template(
    "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token }}{% endfor %}",
    special_tokens={"bos_token": "<plugin-bos>", "eos_token": "<plugin-eos>"},
)

FACTORY_CALLS = 0


def make_template():
    global FACTORY_CALLS
    FACTORY_CALLS += 1
    return Template("factory:{{ messages | length }}{% if add_generation_prompt %}:go{% endif %}")


NOT_A_TEMPLATE = 42

CHATML_IMPOSTOR = "IMPOSTOR CHATML {{ messages | length }}"

COURSE = Template.from_toml(resources.files(__name__) / "course.toml")

FORMAT = format_from_patterns({"user": "Q: {content}\n", "assistant": "A: {content}\n"}, name="test-format")
