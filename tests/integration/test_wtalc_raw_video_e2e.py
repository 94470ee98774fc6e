# Copyright (c) refineloc-mm contributors. All rights reserved.
"""W-TALC (with the refinement's attention branch) trained end to end on
raw video with a tiny 3D backbone through tools/train.py: the W-TALC batch
sampler and the random crop run in a raw-video pipeline, and the
refinement's second round trains the attention branch."""
import json

import pytest
import torch

from helpers.raw_video import ONE_THREAD, wtalc_config
from helpers.runs import run_tool, state_dict

# torch in one thread for every test here (tests/conftest.py one_thread)
pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    return wtalc_config(tmp_path_factory.mktemp('wtalc_videos'))


def test_end_to_end_raw_video(config, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py', config, '--work-dir', work, env=ONE_THREAD)
    summary = json.loads((work / 'refinement_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]
    assert summary['rounds'][1]['pseudo_labels_used']['coverage'] > 0
    end0, end1 = (state_dict(work / f'round_{r}.pth') for r in (0, 1))
    # the backbone is trained with the head
    assert any(k.startswith('backbone.backbone.') for k in end0)
    assert not torch.equal(end0['cls_head.fc.weight'],
                           end1['cls_head.fc.weight'])
    # round 0: plain W-TALC; round 1 learned the pseudo labels
    assert end0['cls_head.attention_trained'] == 0
    assert end1['cls_head.attention_trained'] == 1
