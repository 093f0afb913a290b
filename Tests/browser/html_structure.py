#!/usr/bin/env python3
"""Prints the structure a browser-like HTML tokenizer sees in a page on stdin, as JSON:
{"elements": [[tag, [attribute names...]], ...], "text": "all text content"}.

Used by the injection tests: a page rendered with hostile names must have no element or attribute that
the templates did not write (Python's html.parser ends attribute values where browsers do)."""
import json
import sys
from html.parser import HTMLParser


class Structure(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.elements.append([tag, sorted(name for name, _ in attrs)])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


parser = Structure()
parser.feed(sys.stdin.read())
parser.close()
print(json.dumps({"elements": parser.elements, "text": "".join(parser.text)}, ensure_ascii=False))
