"""nbgrader's cell-metadata validation, with its JSON schema checked once instead of per cell.

nbgrader validates the ``nbgrader`` metadata of every cell with ``jsonschema.validate(meta, schema)``
(nbgrader/nbgraderformat/common.py), and ``jsonschema.validate`` first checks the *schema* itself
against the JSON Schema meta-schema: 90 % of the cost, paid again for every cell of every notebook,
twice per notebook in autograde (CheckCellMetadata runs in both of its passes). Measured on 10
bug-bank submissions each of 02 and 01 through a warm server: 0.2 to 0.3 s of machine CPU a
notebook, a tenth to a sixth of grading it.

:func:`install` points nbgrader's validation at :func:`validate`, which does what
``jsonschema.validate`` does (the validator class the schema names, the error ``best_match`` picks,
raised) with the schema checked and its validator built once per schema. nbgrader_config.py calls
it, so every nbgrader command of the course validates this way.
"""

from __future__ import annotations

import json

import jsonschema
from jsonschema.exceptions import best_match
from nbgrader.nbgraderformat import common

_validators: dict[str, jsonschema.protocols.Validator] = {}


def validate(instance, schema: dict) -> None:
    """``jsonschema.validate(instance, schema)``: raises its ValidationError (or SchemaError for a bad schema)."""
    key = json.dumps(schema, sort_keys=True)  # nbgrader loads the schema again for every validator it makes
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


class _Jsonschema:
    """What nbgrader's common.py uses of the ``jsonschema`` module: ``validate``, the one above."""

    validate = staticmethod(validate)


def install() -> None:
    common.jsonschema = _Jsonschema
