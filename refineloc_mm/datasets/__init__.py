from .base_snippet_dataset import AnnotationError, BaseSnippetDataset
from .class_mapping import apply_checkpoint_classes, checkpoint_classes
from .collate import packed_snippet_collate
from .npy_feature_dataset import NpySnippetFeatureDataset
from .pseudo_label_dataset import PseudoLabelDataset
from .samplers import SameClassPairBatchSampler
from .snippet_feature_dataset import SnippetFeatureDataset
from .transforms import (LoadSnippetFeatures, PackSnippetInputs,
                         ResampleSnippets)

__all__ = [
    'PseudoLabelDataset', 'SnippetFeatureDataset', 'LoadSnippetFeatures',
    'PackSnippetInputs', 'BaseSnippetDataset', 'NpySnippetFeatureDataset',
    'AnnotationError', 'checkpoint_classes', 'apply_checkpoint_classes',
    'packed_snippet_collate', 'SameClassPairBatchSampler', 'ResampleSnippets'
]
from .raw_video_dataset import RawVideoSnippetDataset  # noqa: F401
