#!/usr/bin/python3
"""Parse Prometheus text exposition format from stdin with the reference client library's
parser (Debian python3-prometheus-client) and print the families as JSON:
{"family": {"type": ..., "help": ..., "samples": [{"name", "labels", "value"}]}}.
Exit 77 when the library is missing; 1 (with the parser's message) when the text does not
parse: the e2e suite jotd_metrics checks jotd's /metrics with it, independently of jotd."""
import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.stderr.write("prom_parse: python3-prometheus-client is not installed\n")
    sys.exit(77)

text = sys.stdin.read()
out = {}
try:
    for fam in text_string_to_metric_families(text):
        if fam.name in out:
            raise ValueError("family %s appears twice" % fam.name)
        out[fam.name] = {
            "type": fam.type,
            "help": fam.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in fam.samples],
        }
except Exception as e:  # the parser raises ValueError and friends on bad input
    sys.stderr.write("prom_parse: %s\n" % e)
    sys.exit(1)
json.dump(out, sys.stdout)
