"""The ``options`` template tag renders a select's options, escaped, with the chosen one
marked."""

from __future__ import annotations

from dataclasses import dataclass

from django.template import Context, Template


@dataclass
class Team:
    pk: int
    name: str


def render(src: str, **ctx) -> str:
    return Template("{% load options %}" + src).render(Context(ctx))


def test_pairs_and_objects():
    html = render("{% options kinds sel %}", kinds=[("person", "个人"), ("org", "<b>组织</b>")],
                  sel="org")
    assert html == ('<option value="person">个人</option>'
                    '<option value="org" selected>&lt;b&gt;组织&lt;/b&gt;</option>')
    html = render('{% options teams sel value="pk" label="name" %}',
                  teams=[Team(1, "华东"), Team(2, "华北")], sel="2")
    assert html == '<option value="1">华东</option><option value="2" selected>华北</option>'
    assert render('{% options tags "" value="name" %}', tags=[Team(1, 'a"b')]) == \
        '<option value="a&quot;b">a&quot;b</option>'
    assert render("{% options missing x %}") == ""
