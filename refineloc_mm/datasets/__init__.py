from .pseudo_label_dataset import PseudoLabelDataset
from .snippet_feature_dataset import SnippetFeatureDataset
from .transforms import LoadSnippetFeatures, PackSnippetInputs

__all__ = [
    'PseudoLabelDataset', 'SnippetFeatureDataset', 'LoadSnippetFeatures',
    'PackSnippetInputs'
]
