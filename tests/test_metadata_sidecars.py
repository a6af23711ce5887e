"""Sidecars next to a media file (``.txt`` prompt, ``.json`` workflow, ``.xmp`` tags/rating)
win over embedded data, and each field records where it came from."""
import json

from metadata_fixtures import graph_basic, graph_flux, metadata_api, save_jpeg, save_png_pillow

M = metadata_api()
A1111 = "a sidecar prompt\nNegative prompt: bad\nSteps: 9, Sampler: Euler, CFG scale: 4, Seed: 77, Size: 8x8, Model: side"
WORKFLOW = {"nodes": [{"id": 1, "type": "CLIPTextEncode", "widgets_values": ["from the sidecar workflow"]}],
            "links": []}
XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmp:Rating="4"><dc:subject><rdf:Bag><rdf:li>Favourite</rdf:li><rdf:li>fox</rdf:li><rdf:li>favourite</rdf:li>
</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def test_a_txt_sidecar_wins_over_the_embedded_prompt(tmp_path):
    p = save_png_pillow(tmp_path / "a.png", {"prompt": json.dumps(graph_basic()), "workflow": json.dumps(WORKFLOW)})
    (tmp_path / "a.txt").write_text(A1111, encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.sources == {"prompt": "embedded", "workflow": "embedded", "parameters": "sidecar_txt"}
    assert m.parameters == A1111
    assert (m.params.positive, m.params.seed, m.params.model) == ("a sidecar prompt", 77, "side")


def test_a_json_sidecar_workflow_replaces_the_embedded_one(tmp_path):
    p = save_png_pillow(tmp_path / "b.png", {"prompt": json.dumps(graph_basic()), "workflow": "{}"})
    (tmp_path / "b.json").write_text(json.dumps(WORKFLOW), encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.workflow == WORKFLOW and m.sources["workflow"] == "sidecar_json"
    assert m.sources["prompt"] == "embedded" and m.params.seed == 1234


def test_a_json_sidecar_holding_an_api_graph_is_the_prompt(tmp_path):
    p = save_png_pillow(tmp_path / "c.png", {"prompt": json.dumps(graph_basic())})
    (tmp_path / "c.json").write_text(json.dumps(graph_flux(), indent=2), encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.prompt == graph_flux() and m.sources["prompt"] == "sidecar_json"
    assert m.params.model == "flux1-dev.safetensors"


def test_a_txt_sidecar_with_raw_api_json_as_the_earlier_system_wrote_it(tmp_path):
    p = save_png_pillow(tmp_path / "d.png", {})
    (tmp_path / "d.txt").write_text(json.dumps(graph_basic()), encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.sources["prompt"] == "sidecar_txt" and m.params.seed == 1234 and m.generator == "comfyui"


def test_sidecars_alone_give_metadata_to_a_plain_file(tmp_path):
    p = save_jpeg(tmp_path / "e.jpg")
    (tmp_path / "e.txt").write_text("just words, no settings", encoding="utf-8")
    (tmp_path / "e.json").write_text(json.dumps(WORKFLOW), encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.params.positive == "just words, no settings"
    assert m.sources == {"prompt": "none", "workflow": "sidecar_json", "parameters": "sidecar_txt"}


def test_xmp_sidecar_gives_tags_and_rating(tmp_path):
    p = save_png_pillow(tmp_path / "f.png", {})
    (tmp_path / "f.xmp").write_text(XMP, encoding="utf-8")
    m = M.extract_metadata(p)
    assert m.tags == ["Favourite", "fox"] and m.rating == 4


def test_xmp_rating_as_an_element_and_a_bom_sidecar(tmp_path):
    p = save_png_pillow(tmp_path / "g.png", {})
    xmp = XMP.replace(' xmp:Rating="4"', "").replace("</rdf:Description>", "<xmp:Rating>2</xmp:Rating></rdf:Description>")
    (tmp_path / "g.xmp").write_bytes(b"\xef\xbb\xbf" + xmp.encode("utf-8"))
    assert M.extract_metadata(p).rating == 2


def test_read_sidecars_false_ignores_them(tmp_path):
    p = save_png_pillow(tmp_path / "h.png", {"parameters": A1111.replace("77", "1")})
    (tmp_path / "h.txt").write_text(A1111, encoding="utf-8")
    (tmp_path / "h.xmp").write_text(XMP, encoding="utf-8")
    m = M.extract_metadata(p, read_sidecars=False)
    assert m.params.seed == 1 and m.tags == [] and m.sources["parameters"] == "embedded"


def test_a_cp1252_txt_sidecar_is_decoded(tmp_path):
    p = save_png_pillow(tmp_path / "i.png", {})
    (tmp_path / "i.txt").write_bytes("café au lait".encode("cp1252"))
    assert M.extract_metadata(p).params.positive == "café au lait"
