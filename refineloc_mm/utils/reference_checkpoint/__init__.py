# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Conversion of the authors' RefineLoc checkpoints (the logic behind
``tools/convert_reference_checkpoint.py``), one role per module:

- :mod:`.loading`: safe loading, the settings as plain validated values,
  class names from a ground-truth CSV;
- :mod:`.weights`: the weights checked and mapped onto :class:`RefineLoc`;
- :mod:`.config_writer`: the config with the checkpoint's values, written
  whole;
- :mod:`.verify`: the written files reloaded and checked;
- :mod:`.convert`: :func:`convert`, all of it.
"""
from .config_writer import (SETTING_TO_CONFIG, build_overrides, format_value,
                            render_config)
from .convert import DEFAULT_BASE_CONFIG, convert, default_name, sha256sum
from .loading import (DROPPED_ENTRIES, NEUTRAL_SETTINGS, REQUIRED_SETTINGS,
                      ConversionError, classes_from_csv, load_reference,
                      non_neutral_settings, reference_settings, to_plain)
from .verify import verify_outputs
from .weights import convert_state_dict, expected_shapes, mlp_shapes

__all__ = [
    'ConversionError', 'DEFAULT_BASE_CONFIG', 'DROPPED_ENTRIES',
    'NEUTRAL_SETTINGS', 'REQUIRED_SETTINGS', 'SETTING_TO_CONFIG',
    'build_overrides', 'classes_from_csv', 'convert', 'convert_state_dict',
    'default_name', 'expected_shapes', 'format_value', 'load_reference',
    'mlp_shapes', 'non_neutral_settings', 'reference_settings',
    'render_config', 'sha256sum', 'to_plain', 'verify_outputs'
]
