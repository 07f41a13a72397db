#!/usr/bin/env python3
"""Writes countries.tsv: ISO 3166-1 alpha-2 codes with their names in the languages Laurel's
forms show them in (CLDR, through Babel) and the other names an applicant or a judge may have
typed (ISO's names, alpha-3 code). Laurel reads any of them as the code, except a name two
countries share.

Run from this folder: `python3 -m venv /tmp/c && /tmp/c/bin/pip install babel==2.19.0
pycountry==26.2.16 && /tmp/c/bin/python countries.py`. The output is committed; Laurel reads
it at build time (include_str!)."""

import babel
import pycountry
from babel import Locale

# The languages names are given in; others fall back to their base language, then English.
LANGUAGES = ["en", "ko", "fr", "es", "de", "it", "pt", "nl", "sv", "pl", "ru", "tr", "ar",
             "hi", "id", "vi", "th", "ja", "zh", "zh_Hant"]


# Names in common use that neither CLDR nor ISO give.
COMMON = {
    "KR": ["한국", "남한", "Korea"],
    "US": ["USA", "America", "United States of America"],
    "GB": ["UK", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"],
    "NL": ["Holland"],
    "CZ": ["Czech Republic"],
    "TR": ["Turkey", "Türkiye"],
    "AE": ["UAE"],
}


def main():
    locales = {lang: Locale.parse(lang) for lang in LANGUAGES}
    rows = []
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        names = [locales[lang].territories.get(c.alpha_2, "") for lang in LANGUAGES]
        if not names[0]:
            names[0] = getattr(c, "common_name", None) or c.name
        other = {c.name, getattr(c, "official_name", c.name), getattr(c, "common_name", c.name),
                 c.alpha_3, *COMMON.get(c.alpha_2, [])}
        # "Korea, Republic of" is also written "Republic of Korea".
        if ", " in c.name:
            head, tail = c.name.split(", ", 1)
            other.add(f"{tail} {head}")
        rows.append((c.alpha_2, names, other))
    with open("countries.tsv", "w", encoding="utf-8") as out:
        out.write(f"# ISO 3166-1 alpha-2 codes; names from CLDR (Babel {babel.__version__}) and ISO "
                  f"(pycountry {pycountry.__version__}); written by countries.py\n")
        out.write("code\t" + "\t".join(l.replace("_", "-") for l in LANGUAGES) + "\tother names\n")
        for code, names, other in rows:
            extra = sorted(n for n in other if n not in names)
            out.write("\t".join([code, *names, "|".join(extra)]) + "\n")


if __name__ == "__main__":
    main()
