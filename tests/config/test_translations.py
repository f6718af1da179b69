"""Every user-facing string is translated in Italian, Catalan and Spanish, and compiled."""

import ast
import gettext
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def entries(po: Path, plurals: bool = True):
    """(msgid, msgstr, fuzzy) of each entry of a .po file; plural forms as their first form."""
    result, current, field, fuzzy = [], {}, None, False
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if "msgid" in current and (plurals or not current.get("plural")):
                result.append((current["msgid"], current.get("msgstr", ""), fuzzy))
            current, field, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid_plural "):
            current["plural"], field = True, None
        elif line.startswith(("msgid ", "msgstr ", "msgstr[0] ")):
            key, _, value = line.partition(" ")
            field = "msgid" if key == "msgid" else "msgstr" if key.startswith("msgstr") else None
            if field and field not in current:
                current[field] = ast.literal_eval(value)
            else:
                field = None
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
    return result


@pytest.mark.parametrize("language", ["it", "ca", "es"])
def test_every_string_is_translated(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, msgstr, fuzzy in entries(po) if msgid and (fuzzy or not msgstr)]
    assert missing == [], f"{len(missing)} untranslated in {language}: {missing[:5]}"


@pytest.mark.parametrize("language", ["it", "ca", "es"])
def test_the_compiled_catalogue_matches_the_sources(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with open(folder / "django.mo", "rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    singular = [(msgid, msgstr) for msgid, msgstr, _f in entries(folder / "django.po", False)]
    assert len(singular) > 500
    for msgid, msgstr in singular:
        if msgid:
            assert catalog.gettext(msgid) == msgstr, f"recompile: {msgid!r}"
