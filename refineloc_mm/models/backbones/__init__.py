from .snippet_clip_backbone import SnippetClipBackbone, encode_snippets

__all__ = ['SnippetClipBackbone', 'encode_snippets']
