"""Regenerate factcheck/data/confusables_ascii.json from Unicode's confusables.txt (UTS #39).

    python scripts/make_confusables.py path/to/confusables.txt

confusables.txt is published by Unicode with the security data of each version (the file is
``security/<version>/confusables.txt`` of Unicode's public data; licence: the Unicode License
v3, which allows redistribution with its copyright notice, kept in the output). Only the
mappings whose prototype is plain ASCII are kept: the trusted domains are ASCII, so a
character whose prototype is not ASCII can never make a host read like one of them, and the
table stays small (about 1,900 of 6,500 entries) and loads in a millisecond.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "factcheck" / "data" / "confusables_ascii.json"


def main(source: str) -> None:
    raw = Path(source).read_bytes()
    text = raw.decode("utf-8-sig")
    version = re.search(r"^# Version: (\S+)", text, re.MULTILINE)
    date = re.search(r"^# Date: (.+)$", text, re.MULTILINE)
    copyright_line = re.search(r"^# (© .+)$", text, re.MULTILINE)
    mapping: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        source_cp, target, _kind = (part.strip() for part in line.split(";"))
        char = chr(int(source_cp, 16))
        prototype = "".join(chr(int(cp, 16)) for cp in target.split())
        if prototype.isascii():
            mapping[char] = prototype
    data = {
        "about": "The mappings of Unicode confusables.txt (UTS #39) whose prototype is ASCII, "
                 "for TR39 skeletons of host names; regenerate with "
                 "scripts/make_confusables.py.",
        "unicode_version": version.group(1) if version else "",
        "date": date.group(1).strip() if date else "",
        "sha256_of_source": hashlib.sha256(raw).hexdigest(),
        "copyright": (copyright_line.group(1) if copyright_line else "© Unicode, Inc.")
        + " Unicode License v3: https://www.unicode.org/license.txt",
        "map": dict(sorted(mapping.items(), key=lambda kv: ord(kv[0]))),
    }
    OUT.write_text(json.dumps(data, ensure_ascii=True, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(mapping)} mappings (Unicode {data['unicode_version']}) to {OUT}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
