"""Rules: detections as YAML data (format 1), compiled once and run on every event.

rules/README.md (shipped with the rules) and docs/rules.md describe the language.
"""
