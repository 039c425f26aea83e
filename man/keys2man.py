#!/usr/bin/env python3
"""keys2man.py ORDOD TEMPLATE OUTPUT — writes ordo.conf(5): TEMPLATE with its
line `.\\" KEYS-TABLE` replaced by every key of `ordod --keys` (the key table of
engine/eng_config.c, the same table docs/ordod.md holds) in mdoc, section by
section, and the profiles' timeouts. Fails if the table does not parse, so
the manual cannot silently lose keys."""
import subprocess
import sys


def cells(line):
    """The cells of a markdown table row; '\\|' is a literal bar."""
    row = line.strip()
    assert row.startswith("|") and row.endswith("|"), line
    row = row[1:-1].replace("\\|", "\0")
    return [c.strip().replace("\0", "|") for c in row.split("|")]


def text(s):
    """Markdown cell text as a roff text line."""
    s = s.replace("`", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    s = s.replace("\\", "\\e")
    return "\\&" + s if s[:1] in (".", "'") else s


def main():
    ordod, template, output = sys.argv[1:4]
    table = subprocess.run([ordod, "--keys"], check=True, capture_output=True, text=True).stdout
    lines = table.splitlines()
    keys, profiles = [], []
    target = None
    for line in lines:
        if line.startswith("| section |"):
            target = keys
        elif line.startswith("| key | shared |"):
            target = profiles
        elif line.startswith("| ---"):
            continue
        elif line.startswith("|") and target is not None:
            target.append(cells(line))
    if not keys or not profiles or any(len(k) != 6 for k in keys) or any(len(p) != 3 for p in profiles):
        sys.exit("keys2man.py: `ordod --keys` did not print the two tables expected")
    out = []
    section = None
    for sec, key, kind, rng, default, meaning in keys:
        sec = text(sec)
        if sec != section:
            if section is not None:
                out.append(".El")
            name = "[path0] ... [path3]" if sec == "pathN" else "[" + sec + "]"
            out += [".Ss " + name, ".Bl -tag -width Ds"]
            section = sec
        out += [".It Cm " + text(key),
                text((kind + " " if kind == "one of" else kind + ", ") + rng + "; default: " + default + "."),
                ".br",
                text(meaning)]
    out.append(".El")
    out += [".Ss Profiles",
            "The timeouts' defaults by",
            ".Cm profile ,",
            "in microseconds:",
            ".Bl -column token_retransmit_us shared dedicated -offset indent",
            ".It Em key Ta Em shared Ta Em dedicated"]
    for key, shared, dedicated in profiles:
        out.append(".It Cm %s Ta %s Ta %s" % (text(key), text(shared), text(dedicated)))
    out.append(".El")
    with open(template) as f:
        page = f.read()
    marker = '.\\" KEYS-TABLE\n'
    if page.count(marker) != 1:
        sys.exit("keys2man.py: the template has no single KEYS-TABLE line")
    with open(output, "w") as f:
        f.write(page.replace(marker, "\n".join(out) + "\n"))


if __name__ == "__main__":
    main()
