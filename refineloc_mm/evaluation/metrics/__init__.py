# Copyright (c) refineloc-mm contributors. All rights reserved.
from .temporal_map_metric import TemporalmAP, temporal_detection_ap

__all__ = ['TemporalmAP', 'temporal_detection_ap']
