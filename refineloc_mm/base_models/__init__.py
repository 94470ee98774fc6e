# Copyright (c) refineloc-mm contributors. All rights reserved.
"""Base models of the refinement, one subpackage each (RefineLoc, W-TALC,
BaS-Net, DELU, or one you add: see ``docs/adding_a_base_model.md``).

Nothing here imports them: a model's components are registered when its
subpackage is imported, which its base config asks for::

    custom_imports = dict(
        imports=['refineloc_mm.base_models.<name>'],
        allow_failed_imports=False)

so adding a model is adding a folder (its subpackage, here or anywhere on
the Python path) and its configs, with no edit of a shared file.
"""
