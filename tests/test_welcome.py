"""The welcome: examples made from the catalogue's own titles and fields, each one a request its search answers."""

from conftest import make_engine

from chat.welcome import example_requests, welcome_markdown


def test_every_example_names_only_catalogue_titles_and_gets_picks(catalog, index, embedder):
    engine = make_engine(catalog, index, embedder)
    examples = example_requests(catalog, [catalog["toy-story-1995"], catalog["heat-1995"]])
    assert len(examples) == 4 and examples[0].startswith("I loved Toy Story and ")
    for example in examples:
        result = [update.result for update in engine.respond(engine.new_session(), example)][-1]
        assert result.kind == "recommend" and result.items, (example, result.reply)


def test_the_welcome_says_what_the_catalogue_holds_or_the_message_set(catalog):
    text = welcome_markdown(catalog, ["A comedy from the 90s"], 3)
    assert f"catalogue of {len(catalog.items)} from 1952 to 2001" in text and "3 picks" in text
    assert "- A comedy from the 90s" in text
    assert welcome_markdown(catalog, [], 3, "Ask me <b>anything</b>").startswith("Ask me &lt;b&gt;anything&lt;/b&gt;")
