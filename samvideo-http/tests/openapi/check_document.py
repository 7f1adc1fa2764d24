"""The OpenAPI document against real tools (run by samvideo-http/tests/it/openapi.rs).

Usage: check_document.py OPENAPI.json EXAMPLES_DIR

1. The document passes openapi-spec-validator (OpenAPI 3.1).
2. Every request in EXAMPLES_DIR/valid validates against its endpoint's request-body schema
   (Python jsonschema, Draft 2020-12, $refs resolved in the document).
3. Every request in EXAMPLES_DIR/invalid fails that schema, except the files in EXEMPT, each
   with the reason the schema cannot see it; an exempt file must really pass the schema (or
   not be JSON), so the list cannot go stale.

Prints one line per file and a closing "N passed, N failed" line; exits 1 on any failure.
"""

import json
import pathlib
import sys

import jsonschema
from openapi_spec_validator import validate

# Invalid example files the request schemas cannot reject, and why (the server does).
EXEMPT = {
    "mix-video.not-json.json": "not JSON at all: refused by the JSON parser before any schema applies",
}


def request_schema(doc, endpoint):
    """The request-body schema of the POST path ending in /ENDPOINT."""
    for path, item in doc["paths"].items():
        if path.rstrip("/").endswith("/" + endpoint) and "post" in item:
            ref = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            return {"$ref": ref, "components": doc["components"]}
    raise SystemExit(f"no POST path for {endpoint}")


def main():
    doc_path, examples = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    doc = json.loads(doc_path.read_text())
    passed, failed = 0, 0

    def report(ok, what):
        nonlocal passed, failed
        print(("ok   " if ok else "FAIL ") + what)
        if ok:
            passed += 1
        else:
            failed += 1

    try:
        validate(doc)
        report(True, "openapi-spec-validator")
    except Exception as e:  # noqa: BLE001 - any validator error fails the check
        report(False, f"openapi-spec-validator: {e}")

    validators = {}

    def validator(file):
        endpoint = file.name.split(".")[0]
        if endpoint not in validators:
            schema = request_schema(doc, endpoint)
            jsonschema.Draft202012Validator.check_schema(schema)
            validators[endpoint] = jsonschema.Draft202012Validator(schema)
        return validators[endpoint]

    valid = sorted((examples / "valid").glob("*.json"))
    invalid = sorted(p for p in (examples / "invalid").glob("*.json") if p.name != "expected.json")
    if not valid or not invalid:
        raise SystemExit(f"no examples under {examples}")
    for file in valid:
        errors = [e.message for e in validator(file).iter_errors(json.loads(file.read_text()))]
        report(not errors, f"valid/{file.name} validates" + (f": {errors[:3]}" if errors else ""))
    for file in invalid:
        try:
            body = json.loads(file.read_text())
        except ValueError:
            body = None
        rejected = body is not None and not validator(file).is_valid(body)
        if file.name in EXEMPT:
            report(not rejected, f"invalid/{file.name} exempt ({EXEMPT[file.name]})")
        else:
            report(rejected, f"invalid/{file.name} is rejected by the schema")
    for name in EXEMPT:
        report((examples / "invalid" / name).exists(), f"exempt file {name} exists")

    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
