"""End to end (issue 17): a file source with reviews in four languages, serious (found by
the escalation words of each language) and ordinary, rated-only and mixed, gets a fitting draft for each, in its language, with its
source's contact (its senior contact for a serious one), and every draft passes the guard."""

from __future__ import annotations

import asyncio

from service.desk import queries
from service.polling import poll as poll_module
from tests.conftest import write_jsonl

SOURCE = {"name": "quay", "type": "file", "path": "reviews.jsonl", "contact": "quay@harbourlane.example",
          "escalation_contact": "gm@harbourlane.example",
          "escalation_title": {"en": "our general manager", "es": "nuestra directora general"}}

# id: (review, expected language folder, family, contact)
REVIEWS = {
    "en-1": ({"text": "The soup was cold, the service was slow and nobody apologised. Really disappointing evening.",
              "rating": 2}, "en", "complaint", "quay@harbourlane.example"),
    "en-2": ({"text": "I got food poisoning after eating the fish here and spent the night in hospital. "
                      "My lawyer will be in touch.", "rating": 1}, "en", "serious", "gm@harbourlane.example"),
    "en-3": ({"text": "", "rating": 1}, "en", "rating_only", "quay@harbourlane.example"),
    "en-4": ({"text": "The view is nice, but the food was cold, the waiter was rude and we waited an hour for a "
                      "soggy pizza. Terrible service.", "rating": 3}, "en", "mixed", "quay@harbourlane.example"),
    "es-1": ({"text": "La comida estaba fría, el servicio fue lentísimo y el camarero muy antipático. "
                      "No pensamos volver nunca más a este restaurante.", "rating": 1}, "es", "complaint",
             "quay@harbourlane.example"),
    "es-2": ({"text": "Después de cenar aquí mi hijo acabó en el hospital con una intoxicación alimentaria. "
                      "Es una vergüenza.", "rating": 1}, "es", "serious", "gm@harbourlane.example"),
    "fr-1": ({"text": "Le service était d'une lenteur incroyable et les plats sont arrivés froids. "
                      "Nous sommes très déçus et nous ne reviendrons pas.", "rating": 1}, "fr", "complaint",
             "quay@harbourlane.example"),
    "fr-2": ({"text": "Toute la famille a eu une intoxication alimentaire après ce repas. C'est inadmissible et "
                      "nous avons dû consulter un médecin.", "rating": 1}, "fr", "serious", "gm@harbourlane.example"),
    "de-2": ({"text": "Nach dem Abendessen hatte ich eine Lebensmittelvergiftung und musste ins Krankenhaus. "
                      "Das ist eine Schande.", "rating": 1}, "de", "serious", "gm@harbourlane.example"),
    "de-1": ({"text": "Das Essen war kalt, der Kellner war unfreundlich und wir haben eine Stunde gewartet. "
                      "Wir kommen bestimmt nicht wieder.", "rating": 1}, "de", "complaint", "quay@harbourlane.example"),
}


def test_each_review_gets_a_fitting_draft_in_its_language_with_the_right_contact(make_context, tmp_path) -> None:
    write_jsonl(tmp_path / "reviews.jsonl", [{"id": key, "author": "Ana P.", **review}
                                             for key, (review, *_) in REVIEWS.items()])
    ctx = make_context([SOURCE])
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        drafts = {row["external_id"]: queries.draft(session, row["id"]) for row in queries.draft_rows(session)}
    assert set(drafts) == set(REVIEWS)
    for key, (_, language, family, contact) in REVIEWS.items():
        draft = drafts[key]
        assert draft["template"].startswith(f"{language}/{family}/"), (key, draft["template"])
        assert contact in draft["text"], (key, draft["text"])
        assert draft["policy_ok"], (key, draft["policy_problems"])
        drafted = next(e for e in draft["history"] if e["action"] == "drafted")
        assert f"in {language}" in drafted["detail"], drafted["detail"]
    assert "our general manager" in drafts["en-2"]["text"]
    assert "nuestra directora general" in drafts["es-2"]["text"]
