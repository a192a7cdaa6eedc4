"""Every page of the access table, rendered for a zh-Hans user, shows no English words.

The pages are the rows of tests/audit/test_access_matrix.py's TABLE (the same objects, built
the same way): each HTML page a role of the patient's site may open is fetched as the first
such role with the language preference set to zh-Hans. Its visible text (text nodes and the
title, placeholder, aria-label and alt attributes; not scripts, styles or the values typed
into inputs, and not an element the page declares English, `lang="en"`, or not to be
translated, `translate="no"`: a citation, an official CTCAE term, text a user typed) is split
into words. A word of three or more Latin letters with a lower-case
letter in it is English that was not translated, unless the allow-list below names it:
units, analyte and drug abbreviations, the official English CTCAE v3.0 terms (issue 15:
they stay English), and the data the test itself stored (initials, a typed cause of death).
Upper-case codes (CR, PR, HLH, ALT, AM/PM) are not words of a sentence and pass.
"""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from accounts.models import Preference
from tests.audit.test_access_matrix import ACTORS, TABLE, _media, media_root, world  # noqa: F401 - fixtures

# Words allowed on a Chinese page, and why.
ALLOWED = {
    # Units and unit fragments (UCUM-like, as the lab forms print them).
    "mmol",
    "µmol",
    "umol",
    "mol",
    "kg",
    "mg",
    "mL",
    "dL",
    "g/L",
    "IU",
    "kIU",
    "pg",
    "ng",
    "bpm",
    "min",
    # "copies/mL": the unit of the EBV DNA loads.
    "copies",
    # Analyte, marker and drug abbreviations with lower-case letters.
    "sCD",
    "sIL",
    "IFN",
    "IgG",
    "IgM",
    "HbA",
    "NKc",
    "EBV",
    "dsDNA",
    "CMV",
    "PaO",
    "eGFR",  # estimated glomerular filtration rate, written so in Chinese clinical notes too
    # Proper names: products, registries, the standard's publisher, the trial's registry id.
    "ChiCTR",
    "Jakafi",
    "CTCAE",
    "MedDRA",
    "CDISC",
    "ODM",
    "Noto",
    "Schwartz",  # the bedside Schwartz formula for the eGFR, named after its author
    # Statistical methods named after their authors, as Chinese reports name them.
    "Clopper",
    "Pearson",
    "Kaplan",
    "Meier",
    "Greenwood",
    "Wilcoxon",
    # Microsoft Excel, the spreadsheet a CSV export is opened in (a product's name).
    "Excel",
    # The site's registered name, as stored ("BCH – Beijing Children's Hospital").
    "Beijing",
    "Children's",
    # The IANA name of the site's time zone, shown beside the page's times.
    "Asia",
    "Shanghai",
    # The data this test stored, as a user typed it.
    "Sepsis",
    "Check",
    "weight",
    "Second",
    "Children",
    "Hospital",
}
# Official English CTCAE v3.0 terms are shown as they are published: the world's AE term and
# any term listed on the term search page (its query is "neutro").
CTCAE_WORDS = {
    "Infection",
    "Neutrophils",
    "granulocytes",
    "ANC",
    "AGC",
    "with",
    "normal",
    "grade",
    "unknown",
    "Febrile",
    "neutropenia",
    "fever",
    "absolute",
    "count",
    "documented",
    "clinically",
    "microbiologically",
    "Grade",
    "or",
    "and",
    "Other",
    "specify",
}

WORD = re.compile(r"[A-Za-zµ][A-Za-zµ'’]*")
SKIPPED_TAGS = {"script", "style", "template", "textarea", "code", "pre", "option-data"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.stack: list[tuple[str, bool]] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        declared = (attributes.get("lang") or "").lower().startswith("en") or attributes.get("translate") == "no"
        skip = tag in SKIPPED_TAGS or declared
        if tag not in VOID:
            self.stack.append((tag, skip))
            if skip:
                self.skipping += 1
        if skip or self.skipping:
            return
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.chunks.append(value)
        if tag == "input":
            if attributes.get("type") in {"submit", "button"} and attributes.get("value"):
                self.chunks.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            opened, skip = self.stack.pop()
            if skip:
                self.skipping -= 1
            if opened == tag:
                break

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.chunks.append(data)


def english_words(html: str, allowed: set[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    found = []
    for chunk in parser.chunks:
        for word in WORD.findall(chunk):
            word = word.strip("'’")
            if len(word) < 3 or word == word.upper() or word in ALLOWED or word in allowed:
                continue
            if word in CTCAE_WORDS:
                continue
            found.append(f"{word!r} in {chunk.strip()[:100]!r}")
            break  # one word names the untranslated text
    return list(dict.fromkeys(found))


def stored_words(built) -> set[str]:
    """Words of the data the world stored: the users' names, the patient's study number."""
    words = set()
    values = [str(built.patient), str(built.screening)]
    for user in built.users.values():
        values += [user.username, user.get_full_name(), user.first_name, user.last_name]
    for value in values:
        words.update(WORD.findall(value))
    return words


# Rows that are not pages a site user reads, and why.
NOT_PAGES = {
    "api/v1/docs/": "the API's developer reference (Swagger UI): the API follows Accept-Language only",
    "api/v1/redoc/": "the API's developer reference (ReDoc): the API follows Accept-Language only",
    "ctcae-terms/": "the JSON the AE form's term search reads: official English CTCAE v3.0 terms, no page",
    "documents/<int:pk>/status/": "the JSON a document's page polls for its progress, not a page",
    "documents/<int:pk>/download/": "the generated PDF itself (its text is checked by the document tests)",
    "exports/csv.zip": "the data export: fixed variable names and stored values, not a page",
    "exports/odm.xml": "the CDISC ODM export: a standard's XML, not a page",
    "queries/export.csv": "the query list as CSV for a spreadsheet, not a page",
}
PAGES = [
    route
    for route, row in TABLE.items()
    if not row.api
    and route not in NOT_PAGES
    and any(status == "200" for status in row.get.split()[1:5])
    and not route.endswith((".png", ".json"))
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGES)
def test_a_page_in_chinese_shows_no_english(world, route):  # noqa: F811 - the fixture
    row = TABLE[route]
    statuses = row.get.split()
    actor = next(ACTORS[i] for i in range(1, 5) if statuses[i] == "200")
    user = world.users[actor]
    Preference.objects.update_or_create(user=user, defaults={"language": "zh-hans"})
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get(row.url(world), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, route
    assert "text/html" in response["Content-Type"], f"{route} is not a page: leave it out of PAGES"
    assert response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    # Dates are typed as ISO in every language: never the browser's own date or time control,
    # which shows the browser's locale format (mm/dd/yyyy, 08:00 AM) whatever the page's language.
    assert not re.search(r'type="(date|datetime-local|time)"', html), f"{route}: a browser date control"
    found = english_words(html, stored_words(world))
    assert found == [], f"{route} as {actor}: English on a zh-Hans page:\n" + "\n".join(found)
