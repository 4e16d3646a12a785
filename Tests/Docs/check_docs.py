#!/usr/bin/env python3
"""The documentation stands on its own: every relative link in the Markdown files (README.md,
docs/, examples/) names a file of the repository, and every #anchor a heading of that file; and
nothing in the product — documentation, sources, tests, deployment files — points outside the
repository (a sibling folder, a design document, an issue number).

Usage: check_docs.py REPO_ROOT
"""
import os
import re
import subprocess
import sys

root = sys.argv[1]
failures, passes = [], []


def check(condition, message):
    if not condition:
        print("FAIL " + message)
    (passes if condition else failures).append(message)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lstrip("#").strip().lower())
    return text.replace(" ", "-")


def headings(path):
    anchors, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"^#{1,6} ", line):
            anchors.add(slug(line))
    return anchors


tracked = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
markdown = [path for path in tracked if path.endswith(".md") and (path == "README.md" or path.startswith(("docs/", "examples/")))]
links = 0
for document in markdown:
    text = open(os.path.join(root, document), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links in code are not links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        links += 1
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(document), path)) if path else document
        exists = os.path.exists(os.path.join(root, resolved))
        check(exists, f"{document}: the link ({target}) names {resolved}, which is not in the repository")
        if exists and anchor and resolved.endswith(".md"):
            check(anchor in headings(os.path.join(root, resolved)), f"{document}: the link ({target}) names no heading of {resolved}")

# Nothing points outside the repository: a sibling folder, a design document, an issue number.
outside = re.compile(r"\.\./shared|DESIGN\.md|DESIGN §|\bDESIGN\b|[Ii]ssue #\d|\(#\d+\)|issue \d+")
scanned = 0
for path in tracked:
    if path.startswith(("Fuzz/Corpus/", "Tests/Docs/")) or not os.path.isfile(os.path.join(root, path)):
        continue
    try:
        text = open(os.path.join(root, path), encoding="utf-8").read()
    except UnicodeDecodeError:
        continue
    scanned += 1
    for number, line in enumerate(text.split("\n"), 1):
        if outside.search(line):
            check(False, f"{path} line {number} points outside the repository: {line.strip()[:120]}")

print(f"docs: {links} relative links in {len(markdown)} documents resolve; {scanned} files point nowhere outside"
      if not failures else f"docs: {len(failures)} problems")
sys.exit(1 if failures else 0)
