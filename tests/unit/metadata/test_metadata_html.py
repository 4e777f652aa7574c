import json
import re
from html.parser import HTMLParser

from metadata import Metadata, RecordContext, Statement, head_tags
from metadata.crosswalks.html import highwire_tags, jsonld_script


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if self.tags and self.tags[-1][0] == "script":
            self.script.append(data)


def collect(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    return collector


def test_exact_output(record, context, golden):
    assert head_tags(record, context) == golden("record.head.html")


def test_dc_html_and_highwire(record, context):
    tags = collect(head_tags(record, context)).tags
    assert ("link", {"rel": "schema.DC", "href": "http://purl.org/dc/elements/1.1/"}) in tags
    assert ("link", {"rel": "schema.DCTERMS", "href": "http://purl.org/dc/terms/"}) in tags
    metas = [(a["name"], a.get("lang"), a["content"]) for t, a in tags if t == "meta"]
    assert ("DC.title", "vi", "Giáo trình Hậu cần xăng dầu") in metas
    assert ("DC.title", "en", "Petroleum Logistics: a Textbook") in metas
    assert ("DCTERMS.issued", None, "2024-09-05") in metas
    assert ("DCTERMS.audience", "en", "Third-year cadets") in metas
    assert ("citation_title", None, "Giáo trình Hậu cần xăng dầu") in metas
    assert [m[2] for m in metas if m[0] == "citation_author"] == ["Nguyễn Văn An",
                                                                  "Trần Thị Bích Ngọc"]
    assert ("citation_publication_date", None, "2024/09/05") in metas
    assert ("citation_language", None, "vi") in metas
    assert ("citation_keywords", None, "Xăng dầu") in metas
    assert ("citation_pdf_url", None, context.pdf_url) in metas
    assert any(m[0] == "citation_abstract" for m in metas)


def test_publication_date_precision():
    for issued, shown in (("2024", "2024"), ("2024-03", "2024/03"),
                          ("2024-03-05T10:00Z", "2024/03/05")):
        tags = highwire_tags(Metadata([Statement("issued", issued)]), RecordContext("x"))
        assert tags == [f'<meta name="citation_publication_date" content="{shown}">']


def test_no_pdf_no_pdf_tag():
    tags = highwire_tags(Metadata([Statement("title", "t")]), RecordContext("x"))
    assert not any("citation_pdf_url" in tag for tag in tags)


HOSTILE = '</script><img src=x onerror=alert(1)>"\' & <!--'


def test_hostile_title_cannot_break_out():
    md = Metadata([Statement("title", HOSTILE, "vi"), Statement("creator", HOSTILE)])
    text = head_tags(md, RecordContext("x", url="https://kho.hvhc.edu.vn/r/1"))
    assert "<img" not in text and "<!--" not in text
    assert text.count("</script>") == 1 and text.rstrip().endswith("</script>")
    parsed = collect(text)
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert not any(t == "img" for t, _ in parsed.tags)
    titles = [a["content"] for t, a in parsed.tags if t == "meta" and a["name"] == "DC.title"]
    assert titles == [HOSTILE]
    data = json.loads("".join(parsed.script))
    assert data["name"] == {"@value": HOSTILE, "@language": "vi"}


def test_jsonld_script_escapes_markup_characters():
    script = jsonld_script(Metadata([Statement("title", "a<b>&c")]), RecordContext("x"))
    body = script.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert not re.search(r"[<>&]", body)
    assert "a\\u003cb\\u003e\\u0026c" in body


def test_extruct_reads_dc_html_with_schemes_and_links(record, context):
    import extruct

    page = f"<!doctype html><html><head>{head_tags(record, context)}</head><body></body></html>"
    [dublincore] = extruct.extract(page, syntaxes=["dublincore"],
                                   base_url=context.url)["dublincore"]
    assert dublincore["namespaces"] == {"DC": "http://purl.org/dc/elements/1.1/",
                                        "DCTERMS": "http://purl.org/dc/terms/"}
    found = dublincore["elements"] + dublincore["terms"]

    def attributes(name: str) -> list[dict[str, str]]:
        return [{k: v for k, v in item.items() if k != "URI"} for item in found
                if item.get("name", item.get("rel")) == name]

    assert attributes("DCTERMS.issued") == [
        {"name": "DCTERMS.issued", "scheme": "DCTERMS.W3CDTF", "content": "2024-09-05"}]
    assert attributes("DC.type") == [
        {"name": "DC.type", "scheme": "DCTERMS.DCMIType", "content": "Text"}]
    assert attributes("DC.language") == [
        {"name": "DC.language", "scheme": "DCTERMS.RFC4646", "content": "vi"}]
    assert attributes("DC.identifier") == [
        {"name": "DC.identifier", "scheme": "DCTERMS.URI",
         "content": "doi:10.1234/hvhc.2024.42"}]
    assert attributes("DCTERMS.license") == [
        {"rel": "DCTERMS.license", "href": "https://creativecommons.org/licenses/by-nc/4.0/"}]
    assert attributes("DCTERMS.isPartOf") == [
        {"rel": "DCTERMS.isPartOf", "href": "urn:isbn:9786040000000"}]


def test_extruct_reads_the_inline_json_ld_offline(record, context):
    import extruct

    page = f"<!doctype html><html><head>{head_tags(record, context)}</head><body></body></html>"
    [item] = extruct.extract(page, syntaxes=["json-ld"])["json-ld"]
    assert item["@type"] == "LearningResource"
    assert item["encoding"]["contentUrl"] == context.pdf_url
